"""Queries per page, signed in, on whatever database DATABASE_URL names: run once on the
full data and once on the small one, the counts must be equal (independent of data size).

    python -m bench.querycount full|small
"""

from __future__ import annotations

import sys

from bench.common import save, setup_django
from bench.scenarios import SCENARIOS as PAGES
from bench.scenarios import scenario_path


def main(label: str) -> None:
    setup_django("bench.settings")
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    counts = {}
    for name, (username, path) in PAGES.items():
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        path = scenario_path(lambda url, client=client: client.get(url).content.decode(), path)
        client.get(path)  # warm caches (content types, translations)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    save(f"querycount_{label}", counts)
    print(label, counts)


if __name__ == "__main__":
    main(sys.argv[1])
