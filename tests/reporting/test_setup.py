"""Forms, periods and deadlines: the province's settings, changed only by an administrator or a
manager of the root; a used form is frozen and changed through a new version."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from associations.models import AuditEntry, StaffRole
from reporting import services
from reporting.models import Deadline, Field, FieldSource, Period, PeriodKind, ReportForm, ValueType
from tests.factories import StaffProfileFactory, UserFactory
from tests.reporting.factories import MEMBERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_manager(tree):
    user = UserFactory(username="manager_hanoi", first_name="Lan", last_name="Hoàng")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.MANAGER)
    return user


def test_the_two_forms_are_shipped_with_sections_and_fields_from_the_records_and_by_hand(db):
    half, year = ReportForm.objects.get(kind="half_year", version=1), ReportForm.objects.get(kind="year", version=1)
    assert (half.name, year.name) == ("Báo cáo 6 tháng", "Báo cáo năm")
    codes = set(year.fields.values_list("measure_code", flat=True))
    assert {
        "registry.members",
        "funds.raised",
        "scholarships.paid",
        "learning.recognised",
        "centres.activities",
    } <= codes
    assert year.fields.filter(source=FieldSource.MANUAL, value_type=ValueType.TEXT).exists()
    recognised = year.fields.get(code="cong-nhan-gia-dinh")
    assert recognised.measure_filters == {"title": ["gia-dinh-hoc-tap"]}
    assert not half.fields.filter(measure_code="learning.recognised").exists()  # recognised at the year's end


def test_a_province_manager_opens_a_period_and_sets_its_deadlines_per_level(client_for, city_manager):
    client = client_for(city_manager)
    response = client.post(reverse("reporting:period_create"), {"kind": "year", "year": "2025"})
    period = Period.objects.get(kind="year", year=2025)
    assert response.url == reverse("reporting:deadlines", args=[period.pk])

    client.post(response.url, {"commune": "05/12/2025", "district": "", "city": "15/12/2025"})

    assert dict(Deadline.objects.filter(period=period).values_list("level", "due_on")) == {
        "commune": datetime.date(2025, 12, 5),
        "city": datetime.date(2025, 12, 15),
    }
    assert AuditEntry.objects.for_object(period).count() == 2


def test_a_deadline_before_the_period_is_refused(city_manager):
    period = services.period_create(actor=city_manager, kind=PeriodKind.HALF_YEAR, year=2025)
    with pytest.raises(ValidationError):
        services.deadlines_save(actor=city_manager, period=period, due={"commune": datetime.date(2024, 12, 31)})
    assert not Deadline.objects.exists()


def test_managers_below_the_root_and_clerks_may_not_change_the_provinces_settings(cast, year_form):
    for user in (cast.manager, cast.commune_clerk, cast.city_leader):
        with pytest.raises(PermissionDenied):
            services.period_create(actor=user, kind=PeriodKind.YEAR, year=2025)
        with pytest.raises(PermissionDenied):
            services.section_save(actor=user, form=year_form, title="III", order=3)


def test_a_field_is_checked_before_it_is_saved(city_manager, year_form):
    section = year_form.sections.first()
    base = {"actor": city_manager, "form": year_form, "section": section, "order": 5, "value_type": "integer"}
    with pytest.raises(ValidationError) as error:
        services.field_save(**base, code="hoi-vien", label="Trùng mã", source="manual")
    assert "code" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.field_save(**base, code="moi", label="Không có", source="records", measure_code="no.such")
    assert "measure_code" in error.value.message_dict

    field = services.field_save(
        **base, code="Hội viên nữ", label="Hội viên nữ", source="records", measure_code=MEMBERS,
        measure_filters={"unknown": ["x"]},
    )  # fmt: skip
    assert (field.code, field.measure_filters) == ("hoi-vien-nu", {})


def test_a_used_form_is_changed_only_through_a_new_version(cast, tree, city_manager, year_form, period):
    services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={})
    year_form.refresh_from_db()
    with pytest.raises(ValidationError, match="hãy tạo phiên bản mới"):
        services.section_save(actor=city_manager, form=year_form, title="III", order=3)
    with pytest.raises(ValidationError):
        services.field_delete(actor=city_manager, field=year_form.fields.first())

    new = services.form_new_version(actor=city_manager, form=year_form)
    services.section_save(actor=city_manager, form=new, title="III. Mới", order=3)

    assert (new.version, new.previous, new.is_frozen) == (91, year_form, False)
    assert new.sections.count() == 3 and year_form.sections.count() == 2
    assert Field.objects.filter(form=new).count() == Field.objects.filter(form=year_form).count()
    with pytest.raises(ValidationError, match="đã có phiên bản mới hơn"):
        services.form_new_version(actor=city_manager, form=year_form)


def test_a_province_manager_renames_a_section_of_an_unused_form(client_for, city_manager, year_form):
    section = year_form.sections.first()
    client = client_for(city_manager)
    url = reverse("reporting:section_update", args=[section.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"title": "I. Tổ chức hội", "order": "1"})
    section.refresh_from_db()
    assert section.title == "I. Tổ chức hội"
    assert client.post(url, {"title": "Ẩn\u202e", "order": "1"}).status_code == 200  # refused, shown again
    section.refresh_from_db()
    assert section.title == "I. Tổ chức hội"
