"""A recompute run covers the whole city: its status page belongs to the city association's
staff (and superusers); a district manager sees only the runs they asked for."""

import pytest

from associations.models import StaffRole
from plans.models import RecomputeRun
from tests.factories import StaffProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


@pytest.fixture
def nightly_run():
    return RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.NIGHTLY, error="QXSECRET worker-7 timed out")


def test_a_district_manager_gets_404_on_a_city_wide_run(client_for, cast, nightly_run):
    response = client_for(cast.manager).get(f"/plans/recompute/{nightly_run.pk}/")
    assert response.status_code == 404
    assert "QXSECRET" not in response.content.decode()


def test_a_district_manager_gets_404_on_a_run_another_manager_asked_for(client_for, cast, city_manager):
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL, requested_by=city_manager)
    assert client_for(cast.manager).get(f"/plans/recompute/{run.pk}/").status_code == 404


def test_a_district_manager_watches_the_run_they_asked_for(client_for, cast):
    run = RecomputeRun.objects.create(trigger=RecomputeRun.Trigger.MANUAL, requested_by=cast.manager)
    assert client_for(cast.manager).get(f"/plans/recompute/{run.pk}/").status_code == 200


@pytest.mark.parametrize("who", ["city_manager", "admin"])
def test_the_city_manager_and_a_superuser_open_a_city_wide_run(who, client_for, cast, city_manager, nightly_run):
    user = city_manager if who == "city_manager" else cast.admin
    assert client_for(user).get(f"/plans/recompute/{nightly_run.pk}/").status_code == 200


def test_the_city_leader_may_see_runs_but_not_watch_them_as_a_manager(client_for, cast, nightly_run):
    assert RecomputeRun.objects.visible_to(cast.city_leader).filter(pk=nightly_run.pk).exists()
    assert client_for(cast.city_leader).get(f"/plans/recompute/{nightly_run.pk}/").status_code == 403
