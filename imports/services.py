"""The two passes over a file (check, apply) and the import job's life cycle.

- check (dry run): nothing is written; counts, the first errors and a preview are stored
  on the ImportJob. When the register's adapter `reuses_plan`, the plan of every chunk is
  kept too (`ImportJob.plan`, gzipped JSON lines) with the SHA-256 of the file;
- apply, inside ONE transaction: when the job has a kept plan, the file's checksum is
  compared with the check's and each chunk's plan is verified against the database (the
  records it matched are unchanged, nothing new collides) and written, without reading the
  workbook again; otherwise the file is checked again and each chunk written. Any error or
  any change underneath rolls the whole import back, with a message saying why.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from associations.models import AuditAction, AuditEntry
from funds.totals import totals_deferred
from imports.models import ImportJob, ImportStatus
from khuyenhoc.imports import (
    ChunkPlan,
    ErrorLog,
    ImportAdapter,
    ImportFileError,
    PlanMoved,
    Sheet,
    adapter_class,
    chunked,
    parse_row,
)
from khuyenhoc.imports.annotate import AnnotatedCopy

CHUNK_SIZE = 1000
# The apply of a kept plan writes this many chunks at once: the per-write costs (locking the
# funds, moving receipt counters and balances) are paid once per batch, not once per chunk.
WRITE_CHUNKS = 10
PREVIEW_ROWS = 20


@dataclass
class ScanResult:
    rows: int = 0
    create: int = 0
    update: int = 0
    unchanged: int = 0
    preview: list[dict] = field(default_factory=list)
    errors: ErrorLog = field(default_factory=ErrorLog)
    annotated: Any = None  # the annotated copy of the workbook (a temporary file), when errors were found


def _progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


# A job still "uploaded", "checking" or "applying" with no sign of life for this long was lost
# (its broker message or its worker died): longer than the tasks' hard time limit (30 min).
STUCK_AFTER = datetime.timedelta(minutes=40)


def _heartbeat_key(job_id: int) -> str:
    return f"imports:heartbeat:{job_id}"


def _beat(job_id: int) -> None:
    """Record that a job's pass is alive (at its start and after every chunk)."""
    cache.set(_heartbeat_key(job_id), time.time(), int(STUCK_AFTER.total_seconds()) * 2)


def progress_of(job) -> tuple[int, int]:
    """(processed, total) rows: live from the cache while a pass runs, else from the job row."""
    if job.status in {ImportStatus.CHECKING, ImportStatus.APPLYING}:
        live = cache.get(_progress_key(job.pk))
        if live:
            return live
    return job.processed_rows, job.total_rows


def _scan(
    job,
    adapter: ImportAdapter,
    *,
    write: bool,
    on_progress: Callable[[int, int], None],
    annotate: bool = False,
    keep_plan=None,
) -> ScanResult:
    """One pass over the file. Every error of every row is named: the rows whose cells could
    not all be read go to the adapter's check_rejected. With `annotate` (the check), a first
    error starts the annotated copy of the workbook (khuyenhoc.imports.annotate), kept in
    result.annotated. With `keep_plan` (a text stream), each chunk's frozen plan is written
    to it as one JSON line while no error has been found."""
    result = ScanResult()
    copy = None
    job.file.open("rb")
    try:
        with Sheet(job.file, adapter.columns) as sheet:
            total = sheet.estimated_rows
            on_progress(0, total)
            result.errors.take_recent()
            for chunk in chunked(sheet.rows(), CHUNK_SIZE):
                parsed, rejected = [], []
                for number, raw in chunk:
                    row = parse_row(number, raw, adapter.columns, result.errors)
                    (rejected if row.failed else parsed).append(row)
                plan = adapter.plan(parsed, result.errors)
                if rejected:
                    adapter.check_rejected(rejected, result.errors)
                if write and not result.errors.count:
                    try:
                        adapter.write(plan)
                    except ValidationError as error:
                        # The services refuse what the check could not see (a balance moved
                        # meanwhile): the whole apply rolls back with their message.
                        result.errors.add(None, "", " ".join(error.messages))
                    except PermissionDenied:
                        # The uploader's role or branch changed since the check.
                        result.errors.add(None, "", _("Your account may no longer change this branch's records."))
                if keep_plan is not None and not result.errors.count:
                    keep_plan.write(json.dumps({"rows": len(chunk), "plan": adapter.freeze(plan)}))
                    keep_plan.write("\n")
                found = result.errors.take_recent()
                if annotate and (copy is not None or found):
                    if copy is None:
                        copy = _start_copy(job, adapter, sheet)
                    copy.copy_until(chunk[-1][0], found)
                result.rows += len(chunk)
                result.create += len(plan.create)
                result.update += len(plan.update)
                result.unchanged += plan.unchanged
                room = PREVIEW_ROWS - len(result.preview)
                if room > 0:
                    result.preview.extend(plan.preview[:room])
                total = max(total, result.rows)
                on_progress(result.rows, total)
        if result.rows == 0:
            raise ImportFileError(_("The sheet has headers but no data rows."))
        adapter.check_file(result.errors)
        if copy is not None:
            result.annotated = copy.finish(result.errors.take_recent())
            copy = None
    finally:
        if copy is not None:
            copy.close()
        job.file.close()
    return result


def _start_copy(job, adapter: ImportAdapter, sheet: Sheet) -> AnnotatedCopy:
    """The annotated copy, read through a second handle on the stored upload."""
    columns_at = {
        column.header: sheet.positions[column.key] for column in adapter.columns if column.key in sheet.positions
    }
    return AnnotatedCopy(job.file.storage.open(job.file.name, "rb"), columns_at)


def _store(job, result: ScanResult, **extra) -> None:
    job.total_rows = result.rows
    job.processed_rows = result.rows
    job.to_create = result.create
    job.to_update = result.update
    job.unchanged = result.unchanged
    job.error_count = result.errors.count
    job.errors = sorted(result.errors.items, key=lambda item: (item["row"] is not None, item["row"] or 0))
    job.preview = result.preview
    for name, value in extra.items():
        setattr(job, name, value)
    job.save()


def job_check(job_id: int) -> None:
    """The dry run: read the whole file, store counts, errors and a preview; write nothing else.

    Idempotent: a job already checked (or further along) is left alone.
    """
    started = ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKING]).update(
        status=ImportStatus.CHECKING
    )
    if not started:
        return
    job = ImportJob.objects.select_related("branch", "created_by").get(pk=job_id)
    adapter = adapter_class(job.kind)(job)

    def on_progress(done: int, total: int) -> None:
        cache.set(_progress_key(job_id), (done, total), 3600)
        _beat(job_id)
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    with tempfile.TemporaryFile() as kept:
        try:
            with (
                gzip.open(kept, "wt", encoding="utf-8", compresslevel=1)
                if adapter.reuses_plan
                else nullcontext() as keep_plan
            ):
                result = _scan(job, adapter, write=False, on_progress=on_progress, annotate=True, keep_plan=keep_plan)
        except ImportFileError as error:
            job.status = ImportStatus.INVALID
            job.message = error.message[:500]
            job.finished_at = timezone.now()
            job.save()
            return
        if adapter.reuses_plan and not result.errors.count:
            kept.seek(0)
            job.plan.save(plan_name(job), File(kept), save=False)
            job.file_sha256 = file_sha256(job)
    status = ImportStatus.INVALID if result.errors.count else ImportStatus.CHECKED
    message = (
        _("%(rows)d rows have errors: correct them in the file and upload it again. Nothing was written.")
        % {"rows": result.errors.rows}
        if result.errors.count
        else ""
    )
    if result.annotated is not None:
        with result.annotated:
            job.annotated.save(annotated_name(job), File(result.annotated), save=False)
    _store(job, result, status=status, message=message, finished_at=timezone.now())


def file_sha256(job) -> str:
    """The checksum of the job's stored upload (read in blocks)."""
    digest = hashlib.sha256()
    with job.file.storage.open(job.file.name, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def plan_name(job) -> str:
    stem = job.original_name.rsplit(".", 1)[0] or "nhap"
    return f"{slugify(stem) or 'nhap'}-ke-hoach.jsonl.gz"


def _apply_plan(job, adapter: ImportAdapter, *, on_progress: Callable[[int, int], None]) -> ScanResult:
    """Write the plan the check kept, chunk by chunk, each verified against the database
    first (adapter.thaw). Refuses (_RollBack, nothing written) when the file is not the one
    checked or when the database moved underneath the plan."""
    if file_sha256(job) != job.file_sha256:
        raise _RollBack(
            None,
            _(
                "The uploaded file changed after it was checked. Nothing was written: "
                "upload the file again to check it."
            ),
        )
    result = ScanResult(preview=list(job.preview))
    total = job.total_rows
    on_progress(0, total)
    pending, pending_rows, pending_chunks = ChunkPlan(), 0, 0

    def flush() -> None:
        try:
            adapter.write(pending)
        except ValidationError as error:
            raise _RollBack(None, " ".join(error.messages)) from error
        except PermissionDenied as error:
            raise _RollBack(None, _("Your account may no longer change this branch's records.")) from error
        result.rows += pending_rows
        result.create += len(pending.create)
        result.update += len(pending.update)
        result.unchanged += pending.unchanged
        on_progress(result.rows, max(total, result.rows))

    with job.plan.storage.open(job.plan.name, "rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            frozen = json.loads(line)
            try:
                plan = adapter.thaw(frozen["plan"])
            except PlanMoved as moved:
                raise _RollBack(
                    None,
                    _(
                        "The data changed after the file was checked (%(reason)s). Nothing was written: "
                        "upload the file again to check it against the current data."
                    )
                    % {"reason": moved.message},
                    recheck=True,
                ) from moved
            pending.create.extend(plan.create)
            pending.update.extend(plan.update)
            pending.unchanged += plan.unchanged
            pending_rows += frozen["rows"]
            pending_chunks += 1
            if pending_chunks >= WRITE_CHUNKS:
                flush()
                pending, pending_rows, pending_chunks = ChunkPlan(), 0, 0
        if pending_chunks:
            flush()
    if (result.rows, result.create, result.update) != (job.total_rows, job.to_create, job.to_update):
        raise _RollBack(None, _("The checked plan of this file is incomplete. Nothing was written: upload it again."))
    return result


def annotated_name(job) -> str:
    """ "hoi-vien-loi.xlsx" for "hoi-vien.xlsx": the name the corrected copy is offered under."""
    stem = job.original_name.rsplit(".", 1)[0] or "nhap"
    return f"{slugify(stem) or 'nhap'}-loi.xlsx"


class _RollBack(Exception):
    def __init__(self, result: ScanResult | None, message: str, *, recheck: bool = False):
        self.result = result
        self.message = message
        # The database moved under the kept plan: once rolled back, the file is checked again
        # (writing nothing) so that the job names the rows that now fail, if any.
        self.recheck = recheck


def _audit_import(job, result: ScanResult) -> None:
    """One entry for the import itself; each record created or changed has its own entry too."""
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
    """Write the checked file, all in one transaction: everything or nothing. The plan the
    check kept is written when the file and the records it matched are unchanged; without
    one, the file is checked again as it is written.

    Idempotent: only a job in status "applying" (set when the user pressed Apply) is run;
    an applied job is left alone. Transient database errors propagate for the task to retry.
    """
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().select_related("branch", "created_by").get(pk=job_id)
            if job.status != ImportStatus.APPLYING:
                return
            adapter = adapter_class(job.kind)(job)

            def on_progress(done: int, total: int) -> None:
                # The job row's changes stay invisible until commit: progress goes through the cache.
                cache.set(_progress_key(job_id), (done, total), 3600)
                _beat(job_id)

            # The stored money totals (funds.totals) of the records written are summed in
            # memory and written once at the end of the writes, still in this transaction:
            # the city's rows are locked for that last statement only, not the whole import.
            with totals_deferred():
                if adapter.reuses_plan and job.plan and job.file_sha256:
                    result = _apply_plan(job, adapter, on_progress=on_progress)
                else:
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
        job = ImportJob.objects.select_related("branch", "created_by").get(pk=job_id)
        if failure.recheck:
            try:
                failure.result = _scan(job, adapter_class(job.kind)(job), write=False, on_progress=lambda *_: None)
            except ImportFileError:
                failure.result = None
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
    ImportJob.objects.filter(pk=job_id, status__in=[ImportStatus.CHECKING, ImportStatus.APPLYING]).update(
        status=ImportStatus.FAILED, message=message[:500], finished_at=timezone.now()
    )


def job_create(*, actor, kind: str, branch, upload) -> ImportJob:
    """Store an uploaded file as a new job (status uploaded); the caller enqueues the check."""
    return ImportJob.objects.create(
        kind=kind, created_by=actor, branch=branch, file=upload, original_name=str(upload.name)[:255]
    )


def job_start_apply(job) -> bool:
    """Mark a checked job as applying (once: a second press of Apply does nothing)."""
    started = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.CHECKED).update(status=ImportStatus.APPLYING)
    if started:
        _beat(job.pk)
    return bool(started)


def jobs_sweep_stuck(*, now: datetime.datetime | None = None) -> int:
    """Mark as failed the jobs that stopped without finishing (a lost broker message, a killed
    worker): still uploaded, checking or applying, and silent for STUCK_AFTER. Returns how many.

    An apply that is really running holds its job row locked: SKIP LOCKED leaves it alone.
    Nothing needs undoing: a check writes nothing and an unfinished apply rolled back.
    """
    now = now or timezone.now()
    limit = now - STUCK_AFTER
    with transaction.atomic():
        candidates = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[ImportStatus.UPLOADED, ImportStatus.CHECKING, ImportStatus.APPLYING],
                created_at__lt=limit,
            )
            .values_list("pk", flat=True)
        )
        if not candidates:
            return 0
        beats = cache.get_many([_heartbeat_key(pk) for pk in candidates])
        stuck = [pk for pk in candidates if (beats.get(_heartbeat_key(pk)) or 0) < limit.timestamp()]
        return ImportJob.objects.filter(pk__in=stuck).update(
            status=ImportStatus.FAILED,
            message=_(
                "This import stopped without finishing and was given up. Nothing was written: upload the file again."
            )[:500],
            finished_at=now,
        )
