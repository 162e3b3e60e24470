"""Indicator definitions entered in the portal by a manager of the tree's root, checked against
the catalogue of measures (issue 14)."""

from __future__ import annotations

import pytest
from django.utils import translation

from associations.models import AuditEntry
from plans.models import IndicatorDefinition
from tests.conftest import _staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_manager(tree):
    return _staff("manager_hanoi", tree.city, "manager", "Quản lý Thành phố")


def definition_form(**overrides):
    data = {
        "code": "raised-per-year",
        "name": "Tiền vận động trong năm",
        "unit": "value",
        "numerator_measure": "funds.raised",
        "numerator_filters": "",
        "denominator_measure": "",
        "denominator_filters": "",
        "description": "",
        "source": "",
    }
    data.update(overrides)
    return data


def test_a_city_manager_adds_an_indicator_from_the_catalogue_and_it_is_audited(client_for, city_manager):
    client = client_for(city_manager)
    page = client.get("/plans/indicators/")
    assert page.status_code == 200 and "registry.organizations_with_board" in page.content.decode()
    response = client.post(
        "/plans/indicators/new/",
        definition_form(
            code="boards-public",
            name="Đơn vị sự nghiệp có ban khuyến học",
            unit="percent",
            numerator_measure="registry.organizations_with_board",
            numerator_filters="kinds: public_service",
            denominator_measure="registry.organizations",
            denominator_filters="kinds: public_service",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = IndicatorDefinition.objects.get(code="boards-public")
    assert definition.numerator_filters == {"kinds": ["public_service"]}
    assert AuditEntry.objects.filter(object_repr="Đơn vị sự nghiệp có ban khuyến học").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"numerator_filters": "categories: worker"}, "numerator_filters", "không nhận bộ lọc “categories”"),
        ({"numerator_filters": "just words"}, "numerator_filters", "Dòng 1"),
        (
            {"unit": "percent", "numerator_measure": "registry.organizations", "denominator_filters": ""},
            "denominator_measure",
            "cần có số đo ở mẫu số",
        ),
        (
            {"unit": "percent", "denominator_measure": "registry.organizations", "denominator_filters": "kinds: x"},
            "denominator_filters",
            "không có giá trị “x”",
        ),
    ],
)
def test_a_definition_the_catalogue_cannot_compute_is_refused_with_a_clear_message(
    client_for, city_manager, overrides, field, words
):
    with translation.override("en"):
        response = client_for(city_manager).post(
            "/plans/indicators/new/", definition_form(**overrides), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and words in " ".join(errors[field]), errors
    assert not IndicatorDefinition.objects.filter(code="raised-per-year").exists()


def test_a_district_manager_and_a_leader_may_not_add_indicators(client_for, cast):
    for user in (cast.manager, cast.city_leader):
        assert client_for(user).post("/plans/indicators/new/", definition_form()).status_code == 403
    assert not IndicatorDefinition.objects.filter(code="raised-per-year").exists()
