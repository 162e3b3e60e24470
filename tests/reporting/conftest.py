import pytest

from reporting.models import PeriodKind
from tests.reporting.factories import make_form, make_period, register_test_measures, unregister_test_measures


@pytest.fixture
def test_measures():
    register_test_measures()
    yield
    unregister_test_measures()


@pytest.fixture
def year_form(db, test_measures):
    """The newest year form (version 90, above the shipped one), with the test measures."""
    return make_form()


@pytest.fixture
def period(db):
    return make_period(PeriodKind.YEAR, 2020)
