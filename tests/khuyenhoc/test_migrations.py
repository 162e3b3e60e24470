"""The migrations describe the models as they are."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_have_no_change_without_a_migration():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"makemigrations would write a migration:\n{out.getvalue()}\n(exit {exit_.code})")
    assert "No changes detected" in out.getvalue()
