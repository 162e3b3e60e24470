"""The portal's PostgreSQL sessions: no JIT compilation (khuyenhoc/env.py), unless the
DATABASE_URL says otherwise; the bulk generator turns it on for its load only."""

import pytest
from django.db import connection

from khuyenhoc.env import database_from_url


def _show_jit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        return cursor.fetchone()[0]


def test_a_database_url_gives_sessions_without_jit_and_a_connect_timeout():
    options = database_from_url("postgres://khuyenhoc:secret@db.example:5432/khuyenhoc")["OPTIONS"]
    assert options == {"connect_timeout": "5", "options": "-c jit=off"}


def test_a_database_url_with_its_own_session_options_keeps_them():
    url = "postgres://khuyenhoc@db.example/khuyenhoc?options=-c%20jit%3Don%20-c%20statement_timeout%3D5000"
    assert database_from_url(url)["OPTIONS"]["options"] == "-c jit=on -c statement_timeout=5000"


@pytest.mark.django_db
def test_the_portals_postgresql_session_compiles_no_query():
    assert _show_jit() == "off"


@pytest.mark.django_db
def test_the_generator_turns_jit_on_for_its_load_and_back_off_afterwards():
    from demo.generator.core import _jit_for_the_load

    with _jit_for_the_load():
        assert _show_jit() == "on"
    assert _show_jit() == "off"
