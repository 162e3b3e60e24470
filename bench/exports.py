"""A full-size list export, as the worker writes it, against a floor: the same rows written by
openpyxl write-only from one server-side SQL cursor.

The portal's side is the whole city's members list (every member of Hanoi, about 1.1 million
rows on the full data) exported by `associations.services.export_job_run` — the background
export a user gets above 10 000 rows: the list's own queryset read with `.iterator()`, each row
typed and masked by khuyenhoc.xlsx, progress written every 2 000 rows, the file saved to
storage. The floor reads the same columns in the same order with one named cursor and appends
them untouched to a write-only workbook. Goal: at least half the floor's rate (rows/s).

    python -m bench.exports [full|small]      # the scale only names the result; DATABASE_URL picks the data

Run once each (no warm-up: a full run takes minutes). On the small generated city it is a
quick check that the bench runs.
"""

from __future__ import annotations

import sys
import tempfile
import time

from bench.common import save, setup_django

FLOOR_SQL = """
SELECT m.full_name, m.date_of_birth, m.gender, m.citizen_id, m.phone, m.address, m.category,
       o.name, COALESCE(NULLIF(b.code, ''), b.name), m.joined_on, m.left_on
FROM associations_member m
JOIN associations_branch b ON b.id = m.branch_id
LEFT JOIN associations_organization o ON o.id = m.organization_id
ORDER BY m.full_name COLLATE "vi-VN-x-icu", m.id
"""
CHUNK = 2000


def floor_export() -> tuple[int, float]:
    """Rows written and seconds: one server-side cursor into an openpyxl write-only workbook."""
    from django.db import connection, transaction
    from openpyxl import Workbook

    started = time.perf_counter()
    rows = 0
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Hội viên")
    sheet.append(["Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Địa chỉ", "Đối tượng",
                  "Nơi công tác", "Chi hội", "Ngày vào hội", "Ngày ra hội"])  # fmt: skip
    connection.ensure_connection()
    with transaction.atomic(), connection.connection.cursor(name="bench_exports_floor") as cursor:
        cursor.itersize = CHUNK
        cursor.execute(FLOOR_SQL)
        for row in cursor:
            sheet.append(row)
            rows += 1
    with tempfile.TemporaryFile() as spool:
        workbook.save(spool)
    return rows, time.perf_counter() - started


def portal_export() -> tuple[int, float, int]:
    """Rows written, seconds and file size: the members export of the whole city, as the worker runs it."""
    from django.contrib.auth import get_user_model

    from associations import services
    from associations.models import ExportJob

    user, _created = get_user_model().objects.get_or_create(
        username="bench_exports", defaults={"is_superuser": True, "is_staff": True}
    )
    job = ExportJob.objects.create(requested_by=user, kind="members", params={})
    started = time.perf_counter()
    job = services.export_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    size = job.file.size
    job.file.delete(save=False)
    job.delete()
    return job.done_rows, seconds, size


def main(scale: str) -> None:
    setup_django()
    floor_rows, floor_seconds = floor_export()
    rows, seconds, size = portal_export()
    assert rows == floor_rows, (rows, floor_rows)
    rate, floor_rate = rows / seconds, floor_rows / floor_seconds
    result = {
        "scale": scale,
        "list": "members of the whole city",
        "rows": rows,
        "file_bytes": size,
        "seconds": seconds,
        "rows_per_second": rate,
        "floor_seconds": floor_seconds,
        "floor_rows_per_second": floor_rate,
        "ratio_of_floor_rate": rate / floor_rate,
        "goal_met": rate >= floor_rate / 2,
    }
    save(f"exports_{scale}", result)
    print(
        f"exports ({scale}): {rows} rows, portal {rate:,.0f} rows/s ({seconds:.1f} s), "
        f"floor {floor_rate:,.0f} rows/s ({floor_seconds:.1f} s), {rate / floor_rate:.2f} of the floor's rate"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "full")
