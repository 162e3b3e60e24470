"""Importing a 100 000-row members workbook through the portal's import engine, against the
floor of a bulk insert (Django `bulk_create`, batches of 1 000) of the same rows already parsed.

Three steps, each in its own process so the peak memory of one says nothing of the others:

    python -m bench.imports workbook   # writes the .xlsx (not timed)
    python -m bench.imports floor      # parse outside the clock, time bulk_create, roll back
    python -m bench.imports engine     # check (dry run) + apply, timed; peak memory

Peak memory is the process's maximum resident set size from `resource.getrusage`
(ru_maxrss), reported beside the same figure taken just before the import starts.
"""

from __future__ import annotations

import datetime
import random
import resource
import sys
import time

from bench.common import load, out_dir, save, setup_django

ROWS = 100_000
HEADERS = ["Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"]
DISTRICT_CODE = "001"  # Quận Ba Đình: the uploader's branch


def _workbook_path():
    return out_dir() / "members-100000.xlsx"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def workbook() -> None:
    setup_django()
    from openpyxl import Workbook

    from associations.imports import MEMBER_CATEGORY_LABELS
    from associations.models import Branch
    from demo.generator.names import person_pool

    district = Branch.objects.get(code=DISTRICT_CODE, founded_on__isnull=True)
    communes = list(
        Branch.objects.filter(path__startswith=district.path, level="commune").values_list("code", flat=True)
    )
    rng = random.Random(100_000)  # noqa: S311 — reproducible synthetic rows
    people = person_pool(rng, size=6000)
    labels = list(MEMBER_CATEGORY_LABELS)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hội viên")
    sheet.append(HEADERS)
    seen = set()
    while len(seen) < ROWS:
        person = people[rng.randrange(len(people))]
        born = datetime.date(rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28))
        commune = communes[rng.randrange(len(communes))]
        key = (person.key, born, commune)
        if key in seen:
            continue
        seen.add(key)
        joined = datetime.date(rng.randint(2018, 2020), rng.randint(1, 12), rng.randint(1, 28))
        sheet.append(
            [
                person.name,
                born.strftime("%d/%m/%Y"),
                "Nam" if person.male else "Nữ",
                f"Số {rng.randint(1, 199)}, tổ dân phố {rng.randint(1, 30)}",
                labels[rng.randrange(len(labels))],
                commune,
                joined.strftime("%d/%m/%Y"),
            ]
        )
    book.save(_workbook_path())
    print(f"workbook: {ROWS} rows, {_workbook_path().stat().st_size / 1e6:.1f} MB")


def floor() -> None:
    setup_django()
    from django.db import transaction
    from openpyxl import load_workbook

    from associations.imports import GENDER_LABELS, MEMBER_CATEGORY_LABELS
    from associations.models import Branch, Member
    from khuyenhoc.imports import parse_date
    from khuyenhoc.text import search_key

    codes = dict(Branch.objects.filter(founded_on__isnull=True).exclude(code="").values_list("code", "id"))
    book = load_workbook(_workbook_path(), read_only=True)
    members = []
    for row in book.worksheets[0].iter_rows(min_row=2, values_only=True):
        name, born, gender, address, category, commune, joined = row
        members.append(
            Member(
                full_name=name,
                name_search=search_key(name),
                date_of_birth=parse_date(born),
                gender=GENDER_LABELS[gender],
                address=address,
                category=MEMBER_CATEGORY_LABELS[category],
                branch_id=codes[commune],
                joined_on=parse_date(joined),
            )
        )
    book.close()
    seconds = 0.0

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            started = time.perf_counter()
            Member.objects.bulk_create(members, batch_size=1000)
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    save("imports_floor", {"rows": len(members), "seconds": seconds, "rows_per_second": len(members) / seconds})
    print(f"floor: bulk_create {len(members)} rows in {seconds:.1f} s ({len(members) / seconds:,.0f} rows/s)")


def engine() -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from associations.models import Branch
    from imports.models import ImportJob, ImportStatus
    from imports.services import job_apply, job_check, job_create, job_start_apply

    admin = get_user_model().objects.filter(is_superuser=True).first()
    district = Branch.objects.get(code=DISTRICT_CODE, founded_on__isnull=True)
    with open(_workbook_path(), "rb") as handle:
        job = job_create(actor=admin, kind="members", branch=district, upload=File(handle, name="members-100000.xlsx"))
    baseline = _rss_mb()
    started = time.perf_counter()
    job_check(job.pk)
    checked = time.perf_counter()
    job.refresh_from_db()
    assert job.status == ImportStatus.CHECKED, (job.status, job.message, job.errors[:5])
    assert job_start_apply(job)
    job_apply(job.pk)
    applied = time.perf_counter()
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.APPLIED, (job.status, job.message)
    data = {
        "rows": job.total_rows,
        "created": job.to_create,
        "updated": job.to_update,
        "check_seconds": checked - started,
        "apply_seconds": applied - checked,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _rss_mb(),
    }
    save("imports_engine", data)
    print(
        f"engine: check {data['check_seconds']:.1f} s, apply {data['apply_seconds']:.1f} s, "
        f"peak RSS {data['peak_rss_mb']:.0f} MB (baseline {baseline:.0f} MB)"
    )


def summary() -> None:
    floor_data, engine_data = load("imports_floor"), load("imports_engine")
    rows = engine_data["rows"]
    rate = rows / engine_data["apply_seconds"]
    print(f"import: apply {rate:,.0f} rows/s, floor {floor_data['rows_per_second']:,.0f} rows/s")


if __name__ == "__main__":
    {"workbook": workbook, "floor": floor, "engine": engine, "summary": summary}[sys.argv[1]]()
