"""Conversion tables: which old unit became which new one, read from the official format (the
GSO table shipped in data/hanoi-maps), from the same columns uploaded as .xlsx or .csv, or
derived from two lists of units where no official table exists.

Reading never writes: a table is a list of `TableRow`s, or a ValidationError naming every
bad row (the file's own row numbers, the header rows included).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from khuyenhoc.text import search_key

DATA_DIR = Path(__file__).resolve().parent / "data" / "hanoi-maps"
MAX_TABLE_ROWS = 20_000
MAX_ERRORS = 50

WHOLE = "whole"
PART = "part"

# Headers compared through search_key (no accents, case, spaces); a bracketed note ignored.
HEADERS = {
    "new_name": ("ten xa moi", "ten moi", "new name"),
    "new_code": ("ma xa moi", "ma moi", "new code"),
    "old_name": ("ten xa cu", "ten cu", "old name"),
    "old_code": ("ma xa cu", "ma cu", "old code"),
    "note": ("ghi chu", "note", "kind"),
    "old_district": ("quan/huyen", "quan huyen", "old district"),
}
REQUIRED = ("new_name", "new_code", "old_name", "old_code", "note")

RULE_RENAMED = "Same code, new name in the next list: the same unit renamed (derived, not official)."
RULE_CONTAINS = (
    "Vanished from the next list: goes to the renamed unit of the same old district whose new name "
    "contains its name (derived, not official)."
)
RULE_UNPLACED = "Vanished from the next list and no rule places it: its records need a decision."


@dataclass(frozen=True)
class TableRow:
    """One (old unit, new unit) pair. An empty new code means the old unit is dissolved and
    no successor is known: everything under it goes to the decision list."""

    row: int
    old_code: str
    old_name: str
    new_code: str
    new_name: str
    kind: str  # WHOLE or PART
    old_district: str = ""
    derived: bool = False
    rule: str = ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value))
    # Stray quotes and runs of spaces (the official table has both in its notes).
    return " ".join(text.replace('"', " ").replace("“", " ").replace("”", " ").split())


def _header_key(value) -> str:
    return search_key(re.sub(r"\(.*?\)", " ", _text(value)).replace("*", " "))


def note_kind(note: str) -> str | None:
    """'Nhập toàn bộ' → whole; 'Nhập một phần (diện tích)…' → part; anything else → None."""
    key = search_key(_text(note).replace(",", " "))
    if key.startswith("nhap toan bo") or key in {"whole", "toan bo"}:
        return WHOLE
    if key.startswith("nhap mot phan") or key in {"part", "mot phan"}:
        return PART
    return None


def _code(value) -> str:
    text = _text(value)
    if text.isdigit() and len(text) < 5:
        text = text.zfill(5)  # a spreadsheet dropped the leading zeros of a GSO code
    return text


def _find_columns(rows: list[list]) -> tuple[int, dict[str, int]]:
    """The header row (one of the first five) and each known column's index."""
    for index, row in enumerate(rows[:5]):
        keys = [_header_key(cell) for cell in row]
        columns = {}
        for field, names in HEADERS.items():
            for position, key in enumerate(keys):
                if key in names and field not in columns:
                    columns[field] = position
        if all(field in columns for field in REQUIRED):
            return index, columns
    raise ValidationError(
        _(
            "The table's header was not found: its first rows must name the columns "
            "'Tên Xã mới', 'Mã Xã mới', 'Tên Xã cũ', 'Mã Xã cũ' and 'Ghi chú'."
        )
    )


def _read_rows(data: bytes, filename: str) -> list[list]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise ValidationError(_("The file cannot be read as an Excel workbook (.xlsx).")) from error
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_TABLE_ROWS + 5:
                break
        workbook.close()
        return rows
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(_("The .csv file must be saved as UTF-8.")) from error
        return list(csv.reader(io.StringIO(text)))
    raise ValidationError(_("Upload the table as .xlsx or .csv."))


def parse_table(data: bytes, filename: str) -> list[TableRow]:
    """The rows of a conversion table in the official columns (one or two header rows), or a
    ValidationError listing every bad row. Blank rows are skipped."""
    rows = _read_rows(data, filename)
    if len(rows) > MAX_TABLE_ROWS + 5:
        raise ValidationError(_("The table has more than %(count)s rows.") % {"count": MAX_TABLE_ROWS})
    header, columns = _find_columns(rows)
    result: list[TableRow] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}

    def cell(row: list, field: str) -> str:
        position = columns.get(field)
        if position is None or position >= len(row):
            return ""
        return _text(row[position])

    for index, row in enumerate(rows[header + 1 :], start=header + 2):
        if not any(_text(value) for value in row):
            continue
        old_code, new_code = _code(cell(row, "old_code")), _code(cell(row, "new_code"))
        old_name, new_name, note = cell(row, "old_name"), cell(row, "new_name"), cell(row, "note")
        row_errors = []
        if not old_code:
            row_errors.append(_("the old code is missing"))
        elif not old_code.isdigit():
            row_errors.append(_("the old code '%(code)s' is not a number") % {"code": old_code})
        if new_code and not new_code.isdigit():
            row_errors.append(_("the new code '%(code)s' is not a number") % {"code": new_code})
        if new_code and not new_name:
            row_errors.append(_("the new unit's name is missing"))
        kind = note_kind(note)
        if kind is None:
            row_errors.append(
                _("the note '%(note)s' is neither 'Nhập toàn bộ' (whole) nor 'Nhập một phần' (part)") % {"note": note}
            )
        if not row_errors and (old_code, new_code) in seen:
            row_errors.append(
                _("the pair %(old)s → %(new)s already appears on row %(row)s")
                % {"old": old_code, "new": new_code or "—", "row": seen[(old_code, new_code)]}
            )
        if row_errors:
            errors.append(_("Row %(row)s: %(errors)s.") % {"row": index, "errors": "; ".join(row_errors)})
            if len(errors) >= MAX_ERRORS:
                break
            continue
        seen[(old_code, new_code)] = index
        result.append(
            TableRow(
                row=index,
                old_code=old_code,
                old_name=old_name,
                new_code=new_code,
                new_name=new_name,
                kind=kind,
                old_district=cell(row, "old_district"),
            )
        )
    if not errors:
        errors.extend(_check_consistency(result))
    if errors:
        raise ValidationError(errors)
    if not result:
        raise ValidationError(_("The table has no rows."))
    return result


def _check_consistency(rows: list[TableRow]) -> list[str]:
    """An old unit merged whole into one successor cannot also go elsewhere."""
    by_old: dict[str, list[TableRow]] = {}
    for row in rows:
        by_old.setdefault(row.old_code, []).append(row)
    errors = []
    for old_code, pairs in by_old.items():
        if len(pairs) > 1 and any(pair.kind == WHOLE for pair in pairs):
            errors.append(
                _("Row %(row)s: %(code)s is merged whole into one unit but also appears on rows %(rows)s.")
                % {
                    "row": pairs[0].row,
                    "code": old_code,
                    "rows": ", ".join(str(pair.row) for pair in pairs[1:]),
                }
            )
    return errors


# --- Rounds without an official table: derived from two lists --------------------------------


@dataclass(frozen=True)
class ListedUnit:
    district: str
    district_code: str
    name: str
    code: str


def read_list(path: Path) -> dict[str, ListedUnit]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["Mã PX"].strip(): ListedUnit(
                district=_text(row["Quận Huyện"]),
                district_code=row["Mã QH"].strip(),
                name=_text(row["Phường Xã"]),
                code=row["Mã PX"].strip(),
            )
            for row in csv.DictReader(handle)
        }


_PREFIX = re.compile(r"^(phuong|xa|thi tran)\s+")


def _bare(name: str) -> str:
    """'Phường Văn Miếu - Quốc Tử Giám' → 'van mieu - quoc tu giam' (type word dropped)."""
    return _PREFIX.sub("", search_key(name))


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(^|[\s-]){re.escape(needle)}($|[\s-])", haystack) is not None


def derive_round(old: dict[str, ListedUnit], new: dict[str, ListedUnit]) -> list[TableRow]:
    """The pairs of a round that has no official table, by the rule written in the README:
    renamed units (same code, new name) are whole edges; a vanished unit goes to the renamed
    unit of its old district whose new name contains its name; a vanished unit that no rule
    places gets a row with an empty new code (dissolved, its records go to decisions)."""
    renamed = {code: unit for code, unit in new.items() if code in old and old[code].name != unit.name}
    rows: list[TableRow] = []
    number = 1
    for code in sorted(old):
        unit = old[code]
        if code in renamed:
            target = renamed[code]
            rows.append(
                TableRow(
                    row=number,
                    old_code=code,
                    old_name=unit.name,
                    new_code=code,
                    new_name=target.name,
                    kind=WHOLE,
                    old_district=unit.district,
                    derived=True,
                    rule=RULE_RENAMED,
                )
            )
            number += 1
        elif code not in new:
            candidates = [
                target
                for target in renamed.values()
                if target.district_code == unit.district_code and _contains(_bare(target.name), _bare(unit.name))
            ]
            placed = candidates[0] if len(candidates) == 1 else None
            rows.append(
                TableRow(
                    row=number,
                    old_code=code,
                    old_name=unit.name,
                    new_code=placed.code if placed else "",
                    new_name=placed.name if placed else "",
                    kind=WHOLE,
                    old_district=unit.district,
                    derived=True,
                    rule=RULE_CONTAINS if placed else RULE_UNPLACED,
                )
            )
            number += 1
    return rows


DERIVED_COLUMNS = ["Tên Xã mới", "Mã Xã mới", "Tên Xã cũ", "Mã Xã cũ", "Ghi chú", "Quận/huyện", "Suy ra", "Quy tắc"]


def derived_csv(rows: list[TableRow]) -> str:
    """A derived round in the conversion table's columns, each row marked derived with its rule."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(DERIVED_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.new_name,
                row.new_code,
                row.old_name,
                row.old_code,
                "Nhập toàn bộ" if row.kind == WHOLE else "Nhập một phần",
                row.old_district,
                "derived, not official" if row.derived else "",
                row.rule,
            ]
        )
    return output.getvalue()


def read_derived(path: Path) -> list[TableRow]:
    """A shipped derived table: the official columns plus the derived mark and its rule."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, record in enumerate(csv.DictReader(handle), start=2):
            rows.append(
                TableRow(
                    row=number,
                    old_code=record["Mã Xã cũ"],
                    old_name=record["Tên Xã cũ"],
                    new_code=record["Mã Xã mới"],
                    new_name=record["Tên Xã mới"],
                    kind=note_kind(record["Ghi chú"]) or WHOLE,
                    old_district=record["Quận/huyện"],
                    derived=bool(record["Suy ra"]),
                    rule=record["Quy tắc"],
                )
            )
    return rows


@dataclass(frozen=True)
class Round:
    key: str
    name: str
    effective_on: datetime.date
    legal_basis: str
    legal_basis_verified: bool
    effective_on_verified: bool
    table: str
    old_list: str
    new_list: str

    @property
    def source(self) -> str:
        mark = "" if self.legal_basis_verified and self.effective_on_verified else " (legal basis or date unverified)"
        return f"reorganisation/data/hanoi-maps/{self.table}{mark}"

    def rows(self) -> list[TableRow]:
        path = DATA_DIR / self.table
        if self.old_list:
            return read_derived(path)
        return parse_table(path.read_bytes(), path.name)


def hanoi_rounds() -> list[Round]:
    """Hanoi's three rounds since the 2017 map, in order (data/hanoi-maps/rounds.csv)."""
    with (DATA_DIR / "rounds.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Round(
                key=record["key"],
                name=record["name"],
                effective_on=datetime.date.fromisoformat(record["effective_on"]),
                legal_basis=record["legal_basis"],
                legal_basis_verified=record["legal_basis_verified"] == "yes",
                effective_on_verified=record["effective_on_verified"] == "yes",
                table=record["table"],
                old_list=record["old_list"],
                new_list=record["new_list"],
            )
            for record in csv.DictReader(handle)
        ]
