"""The embedded default (`make run`: SQLite file, no Redis) while an import applies, with
TASKS_IN_PROCESS=0: the apply runs in the web process's background thread, and other pages
answer meanwhile."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # migrates a SQLite file in a subprocess

ROOT = Path(__file__).resolve().parents[2]
ROWS = 5000

APPLY_WHILE_OTHERS_READ = """
import datetime, io, json, sqlite3, threading, time

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from openpyxl import Workbook

from associations.imports import MEMBER_CATEGORY_LABELS
from associations.models import BranchLevel, DivisionType, Member, StaffRole
from imports.models import ImportJob, ImportStatus
from khuyenhoc import background
from khuyenhoc.imports import adapter_class
from khuyenhoc.security import SESSION_LAST_SEEN_KEY
from tests.factories import StaffProfileFactory, UserFactory, make_branch
import khuyenhoc.wsgi  # a web process, as runserver's: its tasks go to the background thread

ROWS = %(rows)d
assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), settings.DATABASES
assert settings.CELERY_TASK_ALWAYS_EAGER and settings.TASKS_IN_BACKGROUND_THREAD
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    assert cursor.fetchone()[0] == "wal"

city = make_branch("Thành phố Thử", BranchLevel.CITY, code="T01", division_type=DivisionType.CITY)
mine = make_branch("Phường Một", BranchLevel.COMMUNE, city, code="T0001", division_type=DivisionType.WARD)
other = make_branch("Phường Hai", BranchLevel.COMMUNE, city, code="T0002", division_type=DivisionType.WARD)
uploader, reader = Client(), Client()
for client, name, branch in ((uploader, "canbo.mot", mine), (reader, "canbo.hai", other)):
    StaffProfileFactory(user=UserFactory(username=name), branch=branch, role=StaffRole.CLERK)
    client.force_login(UserFactory(username=name))

# A request that only notes the time in the session never waits for another writer: with the
# write lock held elsewhere, it answers at once and the note waits for a later request.
session = reader.session
session[SESSION_LAST_SEEN_KEY] = long_ago = int(time.time()) - 3000
session.save()
holder = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)
holder.execute("BEGIN IMMEDIATE")
assert reader.get("/registry/members/").status_code == 200
assert reader.session[SESSION_LAST_SEEN_KEY] == long_ago
holder.execute("ROLLBACK")
holder.close()
assert reader.get("/registry/members/").status_code == 200
assert reader.session[SESSION_LAST_SEEN_KEY] > time.time() - 60

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
assert job.to_create == ROWS, job.to_create

# The apply is held after writing its first chunk, inside its one transaction, while the
# other pages are asked for: what a clerk sees during a long apply.
adapter = adapter_class("members")
write = adapter.write
first_chunk_written, carry_on = threading.Event(), threading.Event()

def held_write(self, plan):
    write(self, plan)
    if not first_chunk_written.is_set():
        first_chunk_written.set()
        carry_on.wait(600)

adapter.write = held_write
# The reader's last request was long ago: her next one would note the time in her session.
session = reader.session
session[SESSION_LAST_SEEN_KEY] = int(time.time()) - 3000
session.save()
detail = uploader.get(job_path)
assert detail.status_code == 200
response = uploader.post(job_path + "apply/")
assert response.status_code == 302, response.status_code
assert first_chunk_written.wait(600), "the apply never wrote its first chunk"

progress = []
for _ in range(3):
    page = reader.get("/registry/members/")
    assert page.status_code == 200, page.status_code
    answer = uploader.get(job_path + "progress/")
    assert answer.status_code == 200, answer.status_code
    state = json.loads(answer.content)
    assert state["status"] == "applying" and not state["done"], state
    progress.append(state["processed"])
    assert uploader.get(job_path).status_code == 200
assert Member.objects.filter(branch=mine).count() == 0, "an unfinished apply is visible"
carry_on.set()

for _ in range(20000):
    assert reader.get("/registry/members/").status_code == 200
    answer = uploader.get(job_path + "progress/")
    assert answer.status_code == 200, answer.status_code
    state = json.loads(answer.content)
    progress.append(state["processed"])
    if state["done"]:
        break
    time.sleep(0.05)
assert background.wait_idle(timeout=600)
job.refresh_from_db()
assert job.status == ImportStatus.APPLIED, (job.status, job.message)
assert Member.objects.filter(branch=mine).count() == ROWS
assert progress == sorted(progress) and progress[0] < ROWS == progress[-1], progress
# Once the apply is over, the reader's next request notes the time in her session.
assert reader.get("/registry/members/").status_code == 200
assert reader.session[SESSION_LAST_SEEN_KEY] > time.time() - 60
print("EMBEDDED-IMPORT-OK", json.dumps(sorted(set(progress))))
"""


def test_other_pages_and_the_progress_answer_while_an_import_applies_on_the_embedded_sqlite(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env["SQLITE_PATH"] = str(tmp_path / "embedded.sqlite3")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # A request that waited for the apply's write lock would fail after 5 s, not hang for a minute.
    env["SQLITE_BUSY_TIMEOUT"] = "5"
    # The apply is held by patching the adapter in this process: the tasks stay in the web
    # process's background thread (the worker process is tested in tests/imports/test_embedded_apply.py).
    env["TASKS_IN_PROCESS"] = "0"

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout

    manage("migrate", "--noinput", "-v0")
    assert "EMBEDDED-IMPORT-OK" in manage("shell", "-c", APPLY_WHILE_OTHERS_READ % {"rows": ROWS})
