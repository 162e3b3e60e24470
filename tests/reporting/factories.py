"""Small report forms and test measures of our own: real functions counting real rows, so the
reports' tests do not depend on the measures the other apps register."""

from __future__ import annotations

import datetime

from django.db.models import Count

from associations.models import Member
from khuyenhoc import measures
from reporting.models import Field, FieldSource, Period, PeriodKind, ReportForm, Section, ValueType

MEMBERS = "reporting_test.members"  # members at the period's end
JOINED = "reporting_test.joined"  # members who joined during the period
ABSENT = "reporting_test.not_registered"  # a measure nobody registers


def _members(*, root, start, end, filters):
    rows = Member.objects.in_subtree(root).active_on(end).values("branch_id").annotate(n=Count("id"))
    return {row["branch_id"]: row["n"] for row in rows}


def _joined(*, root, start, end, filters):
    rows = (
        Member.objects.in_subtree(root)
        .filter(joined_on__gte=start, joined_on__lte=end)
        .values("branch_id")
        .annotate(n=Count("id"))
    )
    return {row["branch_id"]: row["n"] for row in rows}


TEST_MEASURES = [
    measures.Measure(
        code=MEMBERS,
        label="Members (test)",
        source="Members register",
        unit=measures.Unit.PEOPLE,
        timing=measures.Timing.AT_DATE,
        compute=_members,
    ),
    measures.Measure(
        code=JOINED,
        label="Members joined (test)",
        source="Members register",
        unit=measures.Unit.PEOPLE,
        timing=measures.Timing.OVER_PERIOD,
        compute=_joined,
    ),
]


def register_test_measures():
    for measure in TEST_MEASURES:
        measures.register(measure)


def unregister_test_measures():
    for measure in TEST_MEASURES:
        measures._REGISTRY.pop(measure.code, None)


def make_form(kind: str = PeriodKind.YEAR, version: int = 90, name: str = "Báo cáo thử") -> ReportForm:
    """A year form: members (records), joined (records), a measure not registered, households
    (typed, integer), money raised by hand (money), a percentage and a comment."""
    form = ReportForm.objects.create(kind=kind, name=name, version=version)
    records = Section.objects.create(form=form, order=1, title="I. Từ sổ sách")
    typed = Section.objects.create(form=form, order=2, title="II. Nhập tay")
    rows = [
        (records, "hoi-vien", "Tổng số hội viên", ValueType.INTEGER, FieldSource.RECORDS, MEMBERS),
        (records, "hoi-vien-moi", "Hội viên mới", ValueType.INTEGER, FieldSource.RECORDS, JOINED),
        (records, "chua-co", "Chỉ tiêu chưa có", ValueType.INTEGER, FieldSource.RECORDS, ABSENT),
        (typed, "so-ho", "Số hộ gia đình", ValueType.INTEGER, FieldSource.MANUAL, ""),
        (typed, "tien", "Số tiền vận động", ValueType.MONEY, FieldSource.MANUAL, ""),
        (typed, "ty-le", "Tỷ lệ hộ đăng ký (%)", ValueType.PERCENTAGE, FieldSource.MANUAL, ""),
        (typed, "nhan-xet", "Nhận xét", ValueType.TEXT, FieldSource.MANUAL, ""),
    ]
    for order, (section, code, label, value_type, source, measure) in enumerate(rows):
        Field.objects.create(
            form=form,
            section=section,
            order=order,
            code=code,
            label=label,
            value_type=value_type,
            source=source,
            measure_code=measure,
        )
    return form


def make_period(kind: str = PeriodKind.YEAR, year: int = 2020) -> Period:
    return Period.objects.get_or_create(kind=kind, year=year)[0]


def joined(year: int = 2020) -> datetime.date:
    return datetime.date(year, 3, 1)
