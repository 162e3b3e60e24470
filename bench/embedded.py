"""The embedded default (`make run`: SQLite, tasks in the web process) while an import applies:
the latency of another user's page during a 20 000-row member import, against the same page
when nothing runs.

    python -m bench.embedded      # its own SQLite file, migrate + demo_setup, runserver on a free port

The portal runs as `make run` runs it (runserver, no DATABASE_URL, no REDIS_URL). Clerk A
(canbo.badinh) uploads a 20 000-row members workbook and applies it through the pages, as in a
browser, her progress bar polling its endpoint; meanwhile, in another thread as another
browser would, clerk B (canbo.phucxa) loads her members list, one request after another with
a short pause. The figure is the p95 of B's page during the apply against its p95 when idle,
plus every non-200 answer (a "database is locked" error is a 500). The same script measures a
portal whose tasks ran inside the request: then the upload and the Apply requests themselves
last the whole pass. Client and server share the machine's cores, as in the other benches.

Since 01/12/2026 the embedded tasks run in a worker process the web process starts
(TASKS_IN_WORKER_PROCESS); `TASKS_IN_PROCESS=0 python -m bench.embedded` measures the earlier
background thread, whose task shared the web process's GIL. The JSON names the mode and the
ratio of the page's p95 during the apply to its idle p95 (the machine is shared: compare the
ratios of runs made back to back).
"""

from __future__ import annotations

import datetime
import http.cookiejar
import io
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bench.common import save

ROOT = Path(__file__).resolve().parent.parent
ROWS = int(os.environ.get("BENCH_EMBEDDED_ROWS", "20000"))
IDLE_REQUESTS = 40
PAUSE = 0.2  # seconds between two of clerk B's requests
PASSWORD = "khuyenhoc-demo"  # noqa: S105 — the demo accounts' published password
UPLOADER, OTHER = "canbo.badinh", "canbo.phucxa"
OTHER_PAGE = "/registry/members/"
HEADERS = ["Họ và tên", "Ngày sinh", "Giới tính", "Địa chỉ", "Đối tượng", "Đơn vị hội (mã hoặc tên)", "Ngày vào hội"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _embedded_env(sqlite_path: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "SQLITE_PATH": str(sqlite_path),
            "MEDIA_ROOT": str(sqlite_path.parent / "media"),
            "DJANGO_SETTINGS_MODULE": "khuyenhoc.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    return env


class Browser:
    """A signed-in user's cookies and CSRF token, over plain HTTP."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.get("/accounts/login/")[1]
        response = self.post("/accounts/login/", {"username": username, "password": PASSWORD}, page=page)
        if "/accounts/login/" in response[2]:
            raise RuntimeError(f"{username} could not sign in")

    def _token(self, html: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    def _open(self, request) -> tuple[int, str, str, float]:
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=600) as response:
                body = response.read().decode("utf-8", "replace")
                return response.status, body, response.url, time.perf_counter() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), request.full_url, time.perf_counter() - started

    def get(self, path: str) -> tuple[int, str, str, float]:
        status, body, url, seconds = self._open(urllib.request.Request(self.base + path))  # noqa: S310
        return status, body, url, seconds

    def post(self, path: str, fields: dict, *, page: str, files: dict | None = None):
        fields = {**fields, "csrfmiddlewaretoken": self._token(page)}
        if files:
            boundary = uuid.uuid4().hex
            body = io.BytesIO()
            for name, value in fields.items():
                body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
            for name, (filename, data) in files.items():
                body.write(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n".encode()
                )
                body.write(data + b"\r\n")
            body.write(f"--{boundary}--\r\n".encode())
            data, content_type = body.getvalue(), f"multipart/form-data; boundary={boundary}"
        else:
            data, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        request = urllib.request.Request(  # noqa: S310 — our own server
            self.base + path, data=data, headers={"Content-Type": content_type}
        )
        status, body, url, _seconds = self._open(request)
        return status, body, url


def _workbook(commune_code: str) -> bytes:
    from openpyxl import Workbook

    from associations.imports import MEMBER_CATEGORY_LABELS

    rng = random.Random(ROWS)  # noqa: S311 — reproducible synthetic rows
    labels = list(MEMBER_CATEGORY_LABELS)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hội viên")
    sheet.append(HEADERS)
    for number in range(ROWS):
        born = datetime.date(1950 + number % 50, 1 + number % 12, 1 + number % 28)
        sheet.append(
            [
                f"Người Thử Nghiệm {number:05d}",
                born.strftime("%d/%m/%Y"),
                "Nam" if number % 2 else "Nữ",
                f"Số {rng.randint(1, 199)}, tổ dân phố {rng.randint(1, 30)}",
                labels[number % len(labels)],
                commune_code,
                "01/03/2020",
            ]
        )
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) >= 2 else values[0]


def _progress(browser: Browser, job_path: str) -> tuple[int, dict, float]:
    import json

    status, body, _url, seconds = browser.get(job_path + "progress/")
    return status, (json.loads(body) if status == 200 else {}), seconds


def _poll_until_done(uploader: Browser, job_path: str) -> dict:
    """Clerk A's progress bar: its endpoint, PAUSE apart, until the job no longer runs."""
    poll_seconds, failures, processed = [], [], []
    while True:
        status, progress, seconds = _progress(uploader, job_path)
        poll_seconds.append(seconds)
        if status != 200:
            failures.append(("progress", status, ""))
        else:
            processed.append(progress["processed"])
            if progress["done"]:
                return {"poll": poll_seconds, "failures": failures, "processed": processed}
        time.sleep(PAUSE)


def _during(other: Browser, action):
    """Run `action()` while clerk B loads her page in another thread, PAUSE apart; returns the
    action's result and B's latencies and failures."""
    stop = threading.Event()
    page_seconds, failures = [], []

    def load_pages():
        while not stop.is_set():
            status, body, _url, seconds = other.get(OTHER_PAGE)
            page_seconds.append(seconds)
            if status != 200:
                failures.append((OTHER_PAGE, status, body[:200]))
            stop.wait(PAUSE)

    thread = threading.Thread(target=load_pages)
    thread.start()
    try:
        result = action()
    finally:
        stop.set()
        thread.join()
    return result, {"page": page_seconds, "failures": failures}


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
    sqlite_path = workdir / "embedded.sqlite3"
    env = _embedded_env(sqlite_path)
    prepared = os.environ.get("BENCH_EMBEDDED_DEMO")  # a demo database made earlier, copied (saves minutes)
    if prepared:
        shutil.copyfile(prepared, sqlite_path)
    for args in (["migrate", "--noinput", "-v0"], [] if prepared else ["demo_setup"]):
        if args:
            subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update({"SQLITE_PATH": str(sqlite_path), "MEDIA_ROOT": env["MEDIA_ROOT"]})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    from bench.common import setup_django

    setup_django()
    from associations.models import Member, StaffProfile

    commune = StaffProfile.objects.select_related("branch").get(user__username=UPLOADER).branch
    workbook = _workbook(commune.code)
    members_before = Member.objects.count()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "runserver.log", "w"),  # noqa: SIM115 — closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310 — our own server
                break
            except OSError:
                time.sleep(0.25)
        uploader, other = Browser(base, UPLOADER), Browser(base, OTHER)
        for _ in range(3):
            other.get(OTHER_PAGE)  # warm-up
        idle = [other.get(OTHER_PAGE)[3] for _ in range(IDLE_REQUESTS)]

        form = uploader.get("/imports/members/new/")[1]

        def upload():
            status, body, job_url = uploader.post(
                "/imports/members/new/", {}, page=form, files={"file": ("members.xlsx", workbook)}
            )
            job_path = urllib.parse.urlparse(job_url).path
            if not re.fullmatch(r"/imports/\d+/", job_path):
                raise RuntimeError(f"upload did not start a job: {status} {job_url} {body[:500]}")
            return job_path, _poll_until_done(uploader, job_path)

        started = time.perf_counter()
        (job_path, check_polls), checking = _during(other, upload)
        check_seconds = time.perf_counter() - started
        detail = uploader.get(job_path)[1]

        def apply():
            uploader.post(job_path + "apply/", {}, page=detail)
            return time.perf_counter() - started, _poll_until_done(uploader, job_path)

        started = time.perf_counter()
        (apply_request_seconds, apply_polls), applying = _during(other, apply)
        apply_seconds = time.perf_counter() - started
        checking.update(check_polls, failures=checking["failures"] + check_polls["failures"])
        applying.update(apply_polls, failures=applying["failures"] + apply_polls["failures"])
        final = _progress(uploader, job_path)[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
    created = Member.objects.count() - members_before
    data = {
        "rows": ROWS,
        "page": OTHER_PAGE,
        "idle_requests": len(idle),
        "idle_p50_ms": statistics.median(idle) * 1000,
        "idle_p95_ms": _p95(idle) * 1000,
        "apply_request_ms": apply_request_seconds * 1000,
        "check_seconds": check_seconds,
        "apply_seconds": apply_seconds,
        "final_status": final.get("status"),
        "members_created": created,
        "tasks_in_worker_process": os.environ.get("TASKS_IN_PROCESS", "1") not in {"0", "false", "no", "off"},
    }
    for phase, run in (("check", checking), ("apply", applying)):
        data[f"{phase}_requests"] = len(run["page"])
        data[f"{phase}_p50_ms"] = statistics.median(run["page"]) * 1000
        data[f"{phase}_p95_ms"] = _p95(run["page"]) * 1000
        data[f"{phase}_max_ms"] = max(run["page"]) * 1000
        data[f"{phase}_poll_p95_ms"] = _p95(run["poll"]) * 1000
        data[f"{phase}_failures"] = run["failures"]
        data[f"{phase}_processed"] = sorted(set(run["processed"]))
    for phase in ("check", "apply"):
        data[f"{phase}_p95_over_idle"] = data[f"{phase}_p95_ms"] / data["idle_p95_ms"]
    save("embedded", data)
    print(
        f"embedded: {ROWS} rows, check {check_seconds:.1f} s, apply {apply_seconds:.1f} s ({final.get('status')}, "
        f"{created} members written); {OTHER_PAGE} p95 idle {data['idle_p95_ms']:.0f} ms, "
        f"during the check {data['check_p95_ms']:.0f} ms, during the apply {data['apply_p95_ms']:.0f} ms "
        f"(×{data['apply_p95_over_idle']:.2f} idle; max {data['apply_max_ms']:.0f} ms, "
        f"{data['apply_requests']} requests; progress poll p95 {data['apply_poll_p95_ms']:.0f} ms); "
        f"failures {len(checking['failures']) + len(applying['failures'])}"
    )


if __name__ == "__main__":
    main()
