"""The embedded default (`make run`: SQLite file, no Redis) while a member import applies: the
apply runs in the worker process the web process starts (khuyenhoc.background), and another
clerk's page and the uploader's progress bar answer before it finishes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # migrates a SQLite file in a subprocess

ROOT = Path(__file__).resolve().parents[2]
ROWS = 2000

PAGE_AND_PROGRESS_DURING_THE_APPLY = """
import datetime, io, json, os, time
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from associations.imports import MEMBER_CATEGORY_LABELS
from associations.models import AuditAction, AuditEntry, BranchLevel, DivisionType, Member, StaffRole
from imports.models import ImportJob, ImportStatus
from khuyenhoc import background
from tests.factories import MemberFactory, StaffProfileFactory, UserFactory, make_branch
import khuyenhoc.wsgi  # a web process, as runserver's: its tasks leave the request

ROWS = %(rows)d
hold = Path(os.environ["EMBEDDED_HOLD_DIR"])
assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), settings.DATABASES
assert settings.TASKS_IN_BACKGROUND_THREAD and settings.TASKS_IN_WORKER_PROCESS

city = make_branch("Thành phố Thử", BranchLevel.CITY, code="T01", division_type=DivisionType.CITY)
mine = make_branch("Phường Một", BranchLevel.COMMUNE, city, code="T0001", division_type=DivisionType.WARD)
other = make_branch("Phường Hai", BranchLevel.COMMUNE, city, code="T0002", division_type=DivisionType.WARD)
MemberFactory(branch=other, full_name="Trần Thị Hiền")
uploader, reader = Client(), Client()
for client, name, branch in ((uploader, "canbo.mot", mine), (reader, "canbo.hai", other)):
    StaffProfileFactory(user=UserFactory(username=name), branch=branch, role=StaffRole.CLERK)
    client.force_login(UserFactory(username=name))

book = Workbook(write_only=True)
sheet = book.create_sheet("Hội viên")
sheet.append(["Họ và tên", "Ngày sinh", "Giới tính", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"])
labels = list(MEMBER_CATEGORY_LABELS)
for number in range(ROWS):
    born = datetime.date(1950 + number %% 50, 1 + number %% 12, 1 + number %% 28)
    sheet.append([f"Người Thử {number:05d}", born.strftime("%%d/%%m/%%Y"), "Nam" if number %% 2 else "Nữ",
                  labels[number %% len(labels)], "T0001", "01/03/2020"])
content = io.BytesIO()
book.save(content)

response = uploader.post("/imports/members/new/", {"file": SimpleUploadedFile("hoi-vien.xlsx", content.getvalue())})
assert response.status_code == 302, response.status_code
job_path = response["Location"]
job = ImportJob.objects.get(pk=int(job_path.strip("/").rsplit("/", 1)[1]))
assert background.wait_idle(timeout=600), "the check never finished"
job.refresh_from_db()
assert job.status == ImportStatus.CHECKED, (job.status, job.message, job.errors[:3])

assert uploader.get(job_path).status_code == 200
response = uploader.post(job_path + "apply/")
assert response.status_code == 302, response.status_code
for _ in range(12000):  # the apply holds after its first chunk (tests.imports.embedded_hold)
    if (hold / "held").exists():
        break
    time.sleep(0.05)
assert (hold / "held").exists(), "the apply never wrote its first chunk"
assert int((hold / "held").read_text()) != os.getpid(), "the apply ran in the web process"

# While the apply is held inside its transaction: the other clerk's members list and the
# uploader's progress bar answer, and nothing of the unfinished apply shows.
page = reader.get("/registry/members/")
assert page.status_code == 200, page.status_code
assert "Trần Thị Hiền" in page.content.decode()
answer = uploader.get(job_path + "progress/")
assert answer.status_code == 200, answer.status_code
state = json.loads(answer.content)
assert state["status"] == "applying" and not state["done"] and state["total"] == ROWS, state
assert uploader.get(job_path).status_code == 200
assert Member.objects.filter(branch=mine).count() == 0, "an unfinished apply is visible"
assert background.busy()

(hold / "carry-on").write_text("")
for _ in range(12000):
    answer = uploader.get(job_path + "progress/")
    assert answer.status_code == 200, answer.status_code
    if json.loads(answer.content)["done"]:
        break
    time.sleep(0.05)
assert background.wait_idle(timeout=600)
job.refresh_from_db()
assert job.status == ImportStatus.APPLIED, (job.status, job.message)
assert json.loads(uploader.get(job_path + "progress/").content)["processed"] == ROWS
assert Member.objects.filter(branch=mine).count() == ROWS
assert AuditEntry.objects.filter(action=AuditAction.IMPORT, object_id=str(job.pk)).count() == 1
print("EMBEDDED-APPLY-OK")
"""


def test_a_page_and_the_progress_answer_while_the_embedded_apply_runs_in_its_worker_process(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["CACHE_DIR"] = str(tmp_path / "cache")
    env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    env["SQLITE_BUSY_TIMEOUT"] = "5"  # a request waiting for the apply's write lock fails, not hangs
    env["DJANGO_SETTINGS_MODULE"] = "tests.imports.embedded_hold_settings"
    env["EMBEDDED_HOLD_DIR"] = str(tmp_path)

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput", "-v0")
    assert "EMBEDDED-APPLY-OK" in manage("shell", "-c", PAGE_AND_PROGRESS_DURING_THE_APPLY % {"rows": ROWS})
