"""Signed-in clients requesting one page over and over; the page is chosen by BENCH_SCENARIO.

BENCH_SCENARIO=dashboard_city locust -f bench/locustfile.py --headless -u 20 -r 20 -t 60s --host http://127.0.0.1:8765
"""

import os
import re

from locust import HttpUser, constant, task

from demo.accounts import DEMO_PASSWORD

# scenario → (demo account, path); the district is Ba Đình, whose leader signs in.
SCENARIOS = {
    "trivial": ("lanhdao.hanoi", "/bench/trivial/"),
    "dashboard_city": ("lanhdao.hanoi", "/plans/dashboard/"),
    "dashboard_district": ("lanhdao.badinh", "/plans/dashboard/"),
    "members_city": ("lanhdao.hanoi", "/registry/members/"),
    "members_district": ("lanhdao.badinh", "/registry/members/"),
}
USERNAME, PATH = SCENARIOS[os.environ.get("BENCH_SCENARIO", "trivial")]


class SignedInClient(HttpUser):
    wait_time = constant(0)

    def on_start(self):
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
        with self.client.get(PATH, name=PATH, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
