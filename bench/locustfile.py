"""Signed-in clients requesting one page over and over; the page is chosen by BENCH_SCENARIO.

BENCH_SCENARIO=dashboard_city locust -f bench/locustfile.py --headless -u 20 -r 20 -t 60s --host http://127.0.0.1:8765

The first client signs in and the others share its session: twenty sign-ins at once (each a
deliberately slow password hash) took most of a short run on a busy machine before any page
was requested. The page's cost is the same for a shared session.
"""

import os
import re

from gevent.lock import Semaphore
from locust import HttpUser, constant, task

from bench.scenarios import SCENARIOS, scenario_path
from demo.accounts import DEMO_PASSWORD

USERNAME, PATH = SCENARIOS[os.environ.get("BENCH_SCENARIO", "trivial")]
_SIGNED_IN: dict = {}
_SIGNING_IN = Semaphore()


class SignedInClient(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        with _SIGNING_IN:
            if not _SIGNED_IN:
                self.sign_in()
                _SIGNED_IN["cookies"] = self.client.cookies.get_dict()
                _SIGNED_IN["path"] = scenario_path(lambda url: self.client.get(url, name="setup").text, PATH)
        self.client.cookies.update(_SIGNED_IN["cookies"])
        self.path = _SIGNED_IN["path"]

    def sign_in(self):
        page = self.client.get("/accounts/login/", name="login")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.client.post(
            "/accounts/login/",
            {"username": USERNAME, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"sign-in failed for {USERNAME}: {response.status_code}")

    @task
    def page(self):
        with self.client.get(self.path, name=self.path, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
