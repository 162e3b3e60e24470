"""Administrators add a province's own learning titles in the admin, through the service."""

import pytest
from django.urls import reverse

from associations.models import AuditAction, AuditEntry
from learning.models import Registration, SubjectType, TitleKind
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_an_administrator_adds_a_provinces_own_title_and_it_is_audited(client_for, cast):
    response = client_for(cast.admin).post(
        reverse("admin:learning_titlekind_add"),
        {
            "code": "co-so-ton-giao-hoc-tap",
            "name": "Cơ sở tôn giáo học tập",
            "abbreviation": "CSTGHT",
            "subject_type": SubjectType.UNIT,
            "ordering": 6,
            "active": "on",
        },
    )
    assert response.status_code == 302
    kind = TitleKind.objects.get(code="co-so-ton-giao-hoc-tap")
    assert kind.subject_type == SubjectType.UNIT
    entry = AuditEntry.objects.get(content_type__model="titlekind", object_id=str(kind.pk))
    assert entry.action == AuditAction.CREATE and entry.actor == cast.admin


def test_a_title_with_registrations_keeps_what_it_is_awarded_to(client_for, cast, tree):
    kind = TitleKind.objects.get(code="don-vi-hoc-tap")
    Registration.objects.create(
        kind=kind, year=2025, branch=tree.phuc_xa, organization=OrganizationFactory(branch=tree.phuc_xa),
        registered_on="2025-02-01",
    )  # fmt: skip
    response = client_for(cast.admin).post(
        reverse("admin:learning_titlekind_change", args=[kind.pk]),
        {"code": kind.code, "name": kind.name, "abbreviation": kind.abbreviation, "subject_type": SubjectType.CITIZEN,
         "ordering": kind.ordering, "active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "đăng ký" in response.content.decode() or "registrations" in response.content.decode()
    kind.refresh_from_db()
    assert kind.subject_type == SubjectType.UNIT


def test_titles_and_the_cycles_records_are_never_deleted_in_the_admin(client_for, cast):
    kind = TitleKind.objects.first()
    client = client_for(cast.admin)
    assert client.get(reverse("admin:learning_titlekind_delete", args=[kind.pk])).status_code == 403
    assert client.get(reverse("admin:learning_registration_add")).status_code == 403
    assert client.get(reverse("admin:learning_criteriaset_add")).status_code == 403
