"""The Excel import engine every register shares (members, organisations, donations, awards).

A workbook is read as a stream (openpyxl read-only mode): rows go through in chunks of
CHUNK_SIZE, each chunk is parsed cell by cell, then handed to the register's adapter,
which looks up the existing records of the whole chunk in one query and decides, row by
row, what to create, what to update and what is unchanged. The same pass runs twice:

- check (dry run): nothing is written; counts, the first errors and a preview are stored
  on the ImportJob;
- apply: the file is checked again inside ONE transaction and each chunk written with
  bulk_create / bulk_update; any error rolls the whole import back.

Errors name the Excel row number (the header is row 1), the column header and the problem.
The file is never loaded whole: memory stays bounded by one chunk plus the adapter's
duplicate-detection keys.

An adapter subclasses `ImportAdapter`; `ADAPTERS` maps an ImportJob kind to its class.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from khuyenhoc.text import clean_text, search_key

logger = logging.getLogger(__name__)

# Limits that keep a bad or hostile upload from hurting the server.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # an .xlsx of 200 000 member rows is about 15 MB
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024  # refuses "zip bombs" before parsing
MAX_DATA_ROWS = 200_000
CHUNK_SIZE = 1000
MAX_STORED_ERRORS = 500
PREVIEW_ROWS = 20

INSTRUCTIONS_SHEET = "Hướng dẫn"
HEADER_ROW = 1

# What Excel shows in a cell whose formula failed.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)

# ImportJob kind → adapter class. Apps that add a register add a line here.
ADAPTERS = {
    "members": "associations.imports.MemberImport",
    "organizations": "associations.imports.OrganizationImport",
    "donations": "funds.imports.DonationImport",
    "awards": "scholarships.imports.AwardImport",
}


def adapter_class(kind: str) -> type[ImportAdapter]:
    return import_string(ADAPTERS[kind])


class ImportFileError(Exception):
    """The file as a whole cannot be read: not an .xlsx, wrong headers, empty, too big."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """One cell's value cannot be read; the message says why, for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- Cell parsers -------------------------------------------------------------------------
# Each takes the raw value openpyxl gives (str, int, float, datetime, bool or None) and
# returns the Python value, or raises CellError. Empty cells arrive as None.


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _refuse_excel_error(value: Any) -> None:
    if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
        raise CellError(
            _("The cell shows the Excel error %(error)s: correct the formula or type the value.")
            % {"error": value.strip()}
        )


def parse_text(value: Any, *, max_length: int = 255) -> str:
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        raise CellError(_("Expected text, found a date."))
    text = clean_text(str(value))
    if len(text) > max_length:
        raise CellError(_("Too long: at most %(limit)d characters.") % {"limit": max_length})
    return text


def parse_digits(value: Any, *, length: int) -> str:
    """A code made of digits (citizen ID): typed as text, or as a number that lost its leading zeros."""
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        raise CellError(_("Expected digits."))
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("Expected digits only."))
        value = int(value)
    if isinstance(value, int):
        # Excel drops the leading zeros of a number: every citizen ID starts with 0 (the
        # province codes are 001–096), so a number of fewer digits is padded back.
        if value < 0 or len(str(value)) > length:
            raise CellError(_("Expected %(length)d digits.") % {"length": length})
        return str(value).zfill(length)
    text = "".join(str(value).split()).replace(".", "").replace("-", "")
    if not text.isdigit():
        raise CellError(_("Expected digits only."))
    return text


def parse_phone(value: Any) -> str:
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        # A mobile number typed as a number loses its leading 0 (9 digits left).
        text = str(value)
        return "0" + text if len(text) == 9 else text
    text = clean_text(str(value))
    if not re.fullmatch(r"\+?[0-9 .()-]{6,20}", text):
        raise CellError(_("Not a phone number."))
    return text


_DATE_TEXT = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?")
MIN_YEAR = 1900
MAX_YEAR = 2100


def parse_date(value: Any) -> datetime.date | None:
    """dd/mm/yyyy text (also d/m/yyyy, with - or .), ISO yyyy-mm-dd, or a real Excel date cell."""
    _refuse_excel_error(value)
    if is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        if value.time() != datetime.time(0, 0):
            raise CellError(_("Expected a date without a time of day."))
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # A bare number in a date column is most likely a date whose cell lost its date
        # format; reading it as a serial day count could silently give a wrong date.
        raise CellError(_("Expected a date such as 25/03/2018, found a number."))
    else:
        text = clean_text(str(value))
        match = _DATE_TEXT.fullmatch(text)
        try:
            if match:
                day = datetime.date(int(match[3]), int(match[2]), int(match[1]))
            elif iso := _ISO_DATE.fullmatch(text):
                day = datetime.date(int(iso[1]), int(iso[2]), int(iso[3]))
            else:
                raise CellError(_("Expected a date written dd/mm/yyyy, e.g. 25/03/2018."))
        except ValueError as error:
            raise CellError(_("This date does not exist.")) from error
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise CellError(_("The year must lie between %(min)d and %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR})
    return day


_GROUPED = (
    re.compile(r"\d+"),
    re.compile(r"\d{1,3}(?:\.\d{3})+"),  # 1.500.000 (Vietnamese)
    re.compile(r"\d{1,3}(?:,\d{3})+"),  # 1,500,000
    re.compile(r"\d{1,3}(?: \d{3})+"),  # 1 500 000
)
_CURRENCY_SUFFIX = re.compile(r"\s*(?:đồng|dong|đ|₫|vnđ|vnd)\.?$", re.IGNORECASE)
MAX_AMOUNT = 10**15  # a thousand trillion đồng: far above any real donation or fund


def _whole_number(value: Any, *, strip_currency: bool) -> int:
    """A whole number from a number cell or from digits grouped by '.', ',' or spaces.

    A grouping must be exactly three digits between separators, so "1.5" or "1,50" (which
    might be a decimal) is refused rather than read as 15 or 150.
    """
    _refuse_excel_error(value)
    if isinstance(value, bool | datetime.date | datetime.datetime):
        raise CellError(_("Expected a whole number."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(_("Expected a whole number, without decimals."))
        return int(value)
    text = str(value).replace("\u00a0", " ").strip()
    if strip_currency:
        text = _CURRENCY_SUFFIX.sub("", text).strip()
    negative = text.startswith("-")
    if negative:
        text = text[1:].strip()
    if not any(pattern.fullmatch(text) for pattern in _GROUPED):
        raise CellError(_("Expected a whole number such as 1500000, 1.500.000 or 1,500,000 (no decimals)."))
    number = int(re.sub(r"\D", "", text))
    return -number if negative else number


def parse_amount(value: Any, *, allow_zero: bool = False) -> int | None:
    """An amount of money in whole đồng: 1500000, 1.500.000, 1,500,000 or "1.500.000 đ"."""
    if is_blank(value):
        return None
    amount = _whole_number(value, strip_currency=True)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise CellError(_("The amount must be greater than zero."))
    if amount > MAX_AMOUNT:
        raise CellError(_("The amount is implausibly large."))
    return amount


def parse_integer(value: Any, *, minimum: int = 0, maximum: int = 10**9) -> int | None:
    if is_blank(value):
        return None
    number = _whole_number(value, strip_currency=False)
    if not minimum <= number <= maximum:
        raise CellError(_("Expected a whole number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum})
    return number


def parse_choice(value: Any, choices: dict[str, str]) -> str:
    """A value typed as one of the labels (compared without accents or case); "" when blank."""
    _refuse_excel_error(value)
    if is_blank(value):
        return ""
    stored = _choice_keys(tuple(choices.items())).get(search_key(str(value)))
    if stored is None:
        raise CellError(_("Expected one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return stored


@functools.lru_cache(maxsize=64)
def _choice_keys(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {search_key(label): stored for label, stored in items}


# --- Columns, rows and errors ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # fixed Vietnamese header: the file format, not the interface language
    parse: Callable[[Any], Any]
    required: bool = False
    help: Any = ""  # translatable explanation for the instructions sheet
    example: str = ""
    choices: tuple[str, ...] = ()  # labels offered as a drop-down list in the template
    text_format: bool = False  # format the template column as text (codes, dates)
    aliases: tuple[str, ...] = ()


def header_key(text: Any) -> str:
    """Headers compare without accents, case, '*' marks or a note in brackets."""
    text = re.sub(r"\(.*?\)", " ", str(text or "")).replace("*", " ")
    return search_key(text)


@dataclass
class ParsedRow:
    number: int  # the Excel row number
    values: dict[str, Any]  # parsed values of the columns present in the file


@dataclass
class ErrorLog:
    cap: int = MAX_STORED_ERRORS
    count: int = 0
    items: list[dict] = field(default_factory=list)
    bad_rows: set = field(default_factory=set)

    @property
    def rows(self) -> int:
        """How many rows have at least one error."""
        return len(self.bad_rows)

    def add(self, row: int | None, column: str, message: str) -> None:
        self.count += 1
        self.bad_rows.add(row)
        if len(self.items) < self.cap:
            self.items.append({"row": row, "column": str(column), "message": str(message)})


@dataclass
class ChunkPlan:
    """What an adapter decided for one chunk; `create`/`update` hold adapter-specific items."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    unchanged: int = 0
    preview: list[dict] = field(default_factory=list)  # {"row", "action", "summary"}


class ImportAdapter:
    """One register's rules. Subclasses set the class attributes and implement plan/write."""

    kind: str = ""
    title: Any = ""  # translatable name of the register, for pages
    sheet_title: str = "Dữ liệu"
    columns: tuple[Column, ...] = ()
    notes: tuple = ()  # translatable lines for the instructions sheet

    def __init__(self, job):
        self.job = job
        self.root = job.branch
        self.actor = job.created_by

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        raise NotImplementedError

    def write(self, plan: ChunkPlan) -> None:
        raise NotImplementedError

    def finish(self, *, created: int, updated: int) -> None:
        """After a successful apply, inside its transaction (e.g. send a signal once)."""


# --- Reading the workbook ------------------------------------------------------------------


class Sheet:
    """The data sheet of an uploaded workbook, read as a stream of ParsedRow."""

    def __init__(self, file, columns: tuple[Column, ...]):
        self.columns = columns
        self.workbook = _open_workbook(file)
        self.worksheet = _data_worksheet(self.workbook)
        self.estimated_rows = max(0, (self.worksheet.max_row or 1) - HEADER_ROW)
        if self.estimated_rows > MAX_DATA_ROWS * 2:
            # The sheet's own dimension claims far too many rows (trailing formatted rows
            # count too, so only a gross excess is refused before reading).
            raise ImportFileError(_too_many_rows())
        # Some programs write a wrong <dimension>; read every row the sheet really has.
        self.worksheet.reset_dimensions()
        self._rows = self.worksheet.iter_rows(values_only=True)
        self.positions = self._read_header()

    def close(self) -> None:
        self.workbook.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_header(self) -> dict[str, int]:
        header = next(self._rows, None)
        if header is None or all(is_blank(cell) for cell in header):
            raise ImportFileError(
                _("The first row of the sheet must hold the column headers of the template; it is empty.")
            )
        known = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                known[header_key(name)] = column
        positions: dict[str, int] = {}
        unknown = []
        for index, cell in enumerate(header):
            if is_blank(cell):
                continue
            column = known.get(header_key(cell))
            if column is None:
                unknown.append(str(cell).strip())
            elif column.key in positions:
                raise ImportFileError(_("The column “%(column)s” appears twice.") % {"column": column.header})
            else:
                positions[column.key] = index
        missing = [column.header for column in self.columns if column.required and column.key not in positions]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
            if unknown:
                parts.append(_("unknown columns: %(columns)s") % {"columns": ", ".join(unknown)})
            raise ImportFileError(
                _(
                    "The headers in row 1 do not match the template (%(problems)s). "
                    "Download the template and keep its headers."
                )
                % {"problems": "; ".join(parts)}
            )
        return positions

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(Excel row number, {column key: raw value}) for every non-blank row."""
        positions = self.positions
        data_rows = 0
        for number, cells in enumerate(self._rows, start=HEADER_ROW + 1):
            if not cells or all(is_blank(cell) for cell in cells):
                continue
            data_rows += 1
            if data_rows > MAX_DATA_ROWS:
                raise ImportFileError(_too_many_rows())
            width = len(cells)
            yield number, {key: (cells[index] if index < width else None) for key, index in positions.items()}


def _too_many_rows() -> str:
    return _("The file has more than %(limit)s data rows: split it into several files.") % {
        "limit": f"{MAX_DATA_ROWS:,}".replace(",", ".")
    }


def _open_workbook(file):
    from openpyxl import load_workbook

    if hasattr(file, "seek"):
        file.seek(0)
    if not zipfile.is_zipfile(file):
        if hasattr(file, "seek"):
            file.seek(0)
            start = file.read(8)
            file.seek(0)
            if start.startswith(b"\xd0\xcf\x11\xe0"):
                raise ImportFileError(
                    _(
                        "This is an old-style Excel file (.xls). "
                        "Open it in Excel and save it as .xlsx, then upload that."
                    )
                )
        raise ImportFileError(_("This is not an Excel .xlsx file. Use the template and save it as .xlsx."))
    if hasattr(file, "seek"):
        file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise ImportFileError(_("The file unpacks to more data than an import may hold."))
        if hasattr(file, "seek"):
            file.seek(0)
        # data_only: a formula cell gives the value Excel last computed for it.
        return load_workbook(file, read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds on a damaged or foreign zip
        logger.info("unreadable workbook: %r", error)
        raise ImportFileError(
            _("The file cannot be read as an Excel workbook. Save it again as .xlsx and retry.")
        ) from error


def _data_worksheet(workbook):
    for worksheet in workbook.worksheets:
        if header_key(worksheet.title) != header_key(INSTRUCTIONS_SHEET) and worksheet.sheet_state == "visible":
            return worksheet
    raise ImportFileError(_("The workbook has no data sheet."))


def parse_cells(number: int, raw: dict[str, Any], columns: tuple[Column, ...], errors: ErrorLog) -> ParsedRow | None:
    """Parse each present cell; record errors and return None when any cell is wrong."""
    values: dict[str, Any] = {}
    ok = True
    for column in columns:
        if column.key not in raw:
            continue
        value = raw[column.key]
        if column.required and is_blank(value):
            errors.add(number, column.header, _("This column is required."))
            ok = False
            continue
        try:
            values[column.key] = column.parse(value)
        except CellError as error:
            errors.add(number, column.header, error.message)
            ok = False
    return ParsedRow(number, values) if ok else None


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- The two passes --------------------------------------------------------------------------


@dataclass
class ScanResult:
    rows: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    preview: list[dict] = field(default_factory=list)
    errors: ErrorLog = field(default_factory=ErrorLog)


def _progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def progress_of(job) -> tuple[int, int]:
    """(processed, total) rows: live from the cache while a pass runs, else from the job row."""
    from associations.models import ImportStatus

    if job.status in {ImportStatus.CHECKING, ImportStatus.APPLYING}:
        live = cache.get(_progress_key(job.pk))
        if live:
            return live
    return job.processed_rows, job.total_rows


def _scan(job, adapter: ImportAdapter, *, write: bool, on_progress: Callable[[int, int], None]) -> ScanResult:
    result = ScanResult()
    job.file.open("rb")
    try:
        with Sheet(job.file, adapter.columns) as sheet:
            total = sheet.estimated_rows
            on_progress(0, total)
            for chunk in chunked(sheet.rows(), CHUNK_SIZE):
                parsed = []
                for number, raw in chunk:
                    row = parse_cells(number, raw, adapter.columns, result.errors)
                    if row is not None:
                        parsed.append(row)
                plan = adapter.plan(parsed, result.errors)
                if write and not result.errors.count:
                    adapter.write(plan)
                result.rows += len(chunk)
                result.create += len(plan.create)
                result.update += len(plan.update)
                result.unchanged += plan.unchanged
                room = PREVIEW_ROWS - len(result.preview)
                if room > 0:
                    result.preview.extend(plan.preview[:room])
                total = max(total, result.rows)
                on_progress(result.rows, total)
    finally:
        job.file.close()
    if result.rows == 0:
        raise ImportFileError(_("The sheet has headers but no data rows."))
    return result


def _store(job, result: ScanResult, **extra) -> None:
    job.total_rows = result.rows
    job.processed_rows = result.rows
    job.to_create = result.create
    job.to_update = result.update
    job.unchanged = result.unchanged
    job.error_count = result.errors.count
    job.errors = result.errors.items
    job.preview = result.preview
    for name, value in extra.items():
        setattr(job, name, value)
    job.save()


def job_check(job_id: int) -> None:
    """The dry run: read the whole file, store counts, errors and a preview; write nothing else.

    Idempotent: a job already checked (or further along) is left alone.
    """
    from associations.models import ImportJob, ImportStatus

    started = ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKING]).update(
        status=ImportStatus.CHECKING
    )
    if not started:
        return
    job = ImportJob.objects.select_related("branch", "created_by").get(pk=job_id)
    adapter = adapter_class(job.kind)(job)

    def on_progress(done: int, total: int) -> None:
        cache.set(_progress_key(job_id), (done, total), 3600)
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    try:
        result = _scan(job, adapter, write=False, on_progress=on_progress)
    except ImportFileError as error:
        job.status = ImportStatus.INVALID
        job.message = error.message[:500]
        job.finished_at = timezone.now()
        job.save()
        return
    status = ImportStatus.INVALID if result.errors.count else ImportStatus.CHECKED
    message = (
        _("%(rows)d rows have errors: correct them in the file and upload it again. Nothing was written.")
        % {"rows": result.errors.rows}
        if result.errors.count
        else ""
    )
    _store(job, result, status=status, message=message, finished_at=timezone.now())


class _RollBack(Exception):
    def __init__(self, result: ScanResult | None, message: str):
        self.result = result
        self.message = message


def _audit_import(job, result: ScanResult) -> None:
    """One entry for the import itself; each record created or changed has its own entry too."""
    from associations.models import AuditAction, AuditEntry, ImportJob

    AuditEntry.objects.create(
        actor=job.created_by,
        branch=job.branch,
        content_type=ContentType.objects.get_for_model(ImportJob),
        object_id=str(job.pk),
        object_repr=str(job)[:255],
        action=AuditAction.IMPORT,
        changes={
            "file": job.original_name,
            "rows": result.rows,
            "created": result.create,
            "updated": result.update,
            "unchanged": result.unchanged,
        },
    )


def job_apply(job_id: int) -> None:
    """Check the file again and write it, all in one transaction: everything or nothing.

    Idempotent: only a job in status "applying" (set when the user pressed Apply) is run;
    an applied job is left alone. Transient database errors propagate for the task to retry.
    """
    from associations.models import ImportJob, ImportStatus

    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().select_related("branch", "created_by").get(pk=job_id)
            if job.status != ImportStatus.APPLYING:
                return
            adapter = adapter_class(job.kind)(job)

            def on_progress(done: int, total: int) -> None:
                # The job row's changes stay invisible until commit: progress goes through the cache.
                cache.set(_progress_key(job_id), (done, total), 3600)

            try:
                result = _scan(job, adapter, write=True, on_progress=on_progress)
            except ImportFileError as error:
                raise _RollBack(None, error.message) from error
            if result.errors.count:
                raise _RollBack(
                    result,
                    _("The file no longer passes the check (%(rows)d rows have errors). Nothing was written.")
                    % {"rows": result.errors.rows},
                )
            if result.create or result.update:
                _audit_import(job, result)
            adapter.finish(created=result.create, updated=result.update)
            _store(job, result, status=ImportStatus.APPLIED, message="", finished_at=timezone.now())
    except _RollBack as failure:
        job = ImportJob.objects.get(pk=job_id)
        if failure.result is not None:
            _store(
                job,
                failure.result,
                status=ImportStatus.FAILED,
                message=failure.message[:500],
                finished_at=timezone.now(),
            )
        else:
            job.status = ImportStatus.FAILED
            job.message = failure.message[:500]
            job.finished_at = timezone.now()
            job.save()


def job_fail(job_id: int, message: str) -> None:
    """Mark a job that could not finish (time limit, worker crash after retries); nothing was written."""
    from associations.models import ImportJob, ImportStatus

    ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.CHECKING, ImportStatus.APPLYING]).update(
        status=ImportStatus.FAILED, message=message[:500], finished_at=timezone.now()
    )


def job_create(*, actor, kind: str, branch, upload) -> Any:
    """Store an uploaded file as a new job (status uploaded); the caller enqueues the check."""
    from associations.models import ImportJob

    return ImportJob.objects.create(
        kind=kind, created_by=actor, branch=branch, file=upload, original_name=str(upload.name)[:255]
    )


def job_start_apply(job) -> bool:
    """Mark a checked job as applying (once: a second press of Apply does nothing)."""
    from associations.models import ImportJob, ImportStatus

    return bool(ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(status=ImportStatus.APPLYING))


# --- The template workbook ---------------------------------------------------------------------


def build_template(adapter_cls: type[ImportAdapter], output) -> None:
    """Write the blank import template: the data sheet with its headers, and the instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = adapter_cls.sheet_title
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    optional_fill = PatternFill("solid", fgColor="E2EFDA")
    for index, column in enumerate(adapter_cls.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = required_fill if column.required else optional_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        if column.text_format:
            # Text cells keep leading zeros and stop Excel from re-reading dd/mm as mm/dd.
            for row in range(HEADER_ROW + 1, HEADER_ROW + 1001):
                sheet.cell(row=row, column=index).number_format = "@"
        if column.choices:
            options = ",".join(column.choices)
            if len(options) <= 250:
                validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
                validation.add(f"{letter}{HEADER_ROW + 1}:{letter}{MAX_DATA_ROWS + 1}")
                sheet.add_data_validation(validation)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)

    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["B"].width = 12
    guide.column_dimensions["C"].width = 80
    guide.column_dimensions["D"].width = 24
    guide.append([str(_("How to fill in this file"))])
    guide["A1"].font = Font(bold=True, size=13)
    for line in (*GENERAL_NOTES, *adapter_cls.notes):
        guide.append([str(line)])
    guide.append([])
    guide.append([str(_("Column")), str(_("Required")), str(_("What to type")), str(_("Example"))])
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    for column in adapter_cls.columns:
        explanation = str(column.help)
        if column.choices:
            explanation = f"{explanation} {_('Allowed values')}: {', '.join(column.choices)}.".strip()
        guide.append([column.header, str(_("yes")) if column.required else "", explanation, column.example])
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(output)


GENERAL_NOTES = (
    gettext_lazy(
        "Type one record per row on the first sheet, from row 2 on. Keep the headers of row 1 as they are; "
        "columns may be left out or reordered, except the required ones."
    ),
    gettext_lazy(
        "Dates: type them as dd/mm/yyyy (e.g. 25/03/2018) or enter real Excel dates. The date columns of this "
        "template are formatted as text so that Excel does not swap day and month."
    ),
    gettext_lazy(
        "Amounts and numbers: whole numbers, written 1500000, 1.500.000 or 1,500,000. Decimals such as 1.5 or "
        "1,50 are refused, never guessed."
    ),
    gettext_lazy(
        "Formulas are allowed: the value Excel last computed is imported. A cell showing an Excel error "
        "(#REF!, #N/A…) is refused."
    ),
    gettext_lazy(
        "The import first checks the whole file and shows what it would create and change. It writes only when you "
        "press Apply, and then writes everything or, if any row is wrong, nothing."
    ),
    gettext_lazy(
        "Importing the same file again changes nothing. Columns left out of the file are not changed; an empty cell "
        "in a column that is present clears that value."
    ),
    gettext_lazy("At most 200.000 data rows and 50 MB per file."),
)
