"""Completeness of a period against a hand-counted case, the consolidated sums against hand
sums, and the reminders sent to exactly the right clerks."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from associations.models import BranchLevel, StaffRole
from reporting import selectors, services
from reporting.models import Deadline, PeriodKind, ReminderSent, Report, ReportState
from reporting.tasks import reminders_send
from tests.factories import MemberFactory, StaffProfileFactory, UserFactory, make_branch
from tests.reporting.factories import joined, make_period

pytestmark = pytest.mark.django_db


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, 0)))


def deadlines(period, **due):
    for level, day in due.items():
        Deadline.objects.create(period=period, level=level, due_on=day)


def sent(actor, period, branch, values, *, on: datetime.date | None = None) -> Report:
    report = services.report_values_save(actor=actor, period=period, branch=branch, values=values)
    report = services.report_submit(actor=actor, report=report)
    if on:
        Report.objects.filter(pk=report.pk).update(first_submitted_at=at(on))
        report.refresh_from_db()
    return report


@pytest.fixture
def dissolved(tree):
    """A commune dissolved in 2019 and a chapter: neither is expected to report for 2020."""
    make_branch("Phường Cũ", BranchLevel.COMMUNE, tree.ba_dinh, founded_on=datetime.date(2000, 1, 1),
                dissolved_on=datetime.date(2019, 6, 30))  # fmt: skip
    make_branch("Chi hội Phúc Xá 1", BranchLevel.CHAPTER, tree.phuc_xa)


def test_completeness_per_level_against_a_hand_count(tree, cast, year_form, period, dissolved):
    deadlines(period, commune=datetime.date(2020, 12, 5), district=datetime.date(2020, 12, 10),
              city=datetime.date(2020, 12, 15))  # fmt: skip
    sent(cast.admin, period, tree.phuc_xa, {}, on=datetime.date(2020, 12, 1))  # on time
    sent(cast.admin, period, tree.truc_bach, {}, on=datetime.date(2020, 12, 7))  # late
    sent(cast.admin, period, tree.ba_dinh, {}, on=datetime.date(2020, 12, 10))  # on time (the day itself)
    services.report_values_save(actor=cast.admin, period=period, branch=tree.hoan_kiem, values={})  # a draft
    # Hàng Bạc and the city: nothing.

    levels, rows = selectors.completeness(period, tree.city)

    figures = {e.level: (e.expected, e.on_time, e.late, e.missing, e.percent) for e in levels}
    assert figures == {
        "city": (1, 0, 0, 1, 0),
        "district": (2, 1, 0, 1, 50),
        "commune": (3, 1, 1, 1, 67),
    }
    status = {row.branch.name: row.status for row in rows}
    assert status["Phường Phúc Xá"] == "on_time"
    assert status["Phường Trúc Bạch"] == "late"
    assert status["Quận Hoàn Kiếm"] in {"missing", "overdue"}
    assert "Phường Cũ" not in status and "Chi hội Phúc Xá 1" not in status

    levels, _rows = selectors.completeness(period, tree.ba_dinh)
    assert {e.level: (e.expected, e.sent, e.percent) for e in levels} == {
        "district": (1, 1, 100),
        "commune": (2, 2, 100),
    }


def test_completeness_reads_a_fixed_number_of_queries(tree, cast, year_form, period, django_assert_num_queries):
    sent(cast.admin, period, tree.phuc_xa, {})
    with django_assert_num_queries(4):
        selectors.completeness(period, tree.city)


def test_the_consolidated_report_sums_the_approved_reports_of_the_children(tree, cast, year_form, period):
    dien_bien = make_branch("Phường Điện Biên", BranchLevel.COMMUNE, tree.ba_dinh)
    MemberFactory.create_batch(3, branch=tree.phuc_xa, joined_on=joined())
    MemberFactory.create_batch(2, branch=dien_bien, joined_on=datetime.date(2015, 1, 1))
    MemberFactory.create_batch(4, branch=tree.truc_bach, joined_on=joined())
    for branch, values in (
        (tree.phuc_xa, {"so-ho": "100", "tien": "1.500.000", "ty-le": "40", "nhan-xet": "A"}),
        (dien_bien, {"so-ho": "250", "tien": "2000000", "ty-le": "60"}),
        (tree.truc_bach, {"so-ho": "999", "tien": "9"}),
    ):
        sent(cast.admin, period, branch, values)
    for branch in (tree.phuc_xa, dien_bien):
        services.report_approve(actor=cast.manager, report=Report.objects.get(branch=branch))

    result = selectors.consolidation(period, tree.ba_dinh)

    values = {row.field.code: row.value for section in result.sections for row in section.rows}
    assert values["hoi-vien"] == 3 + 2
    assert values["hoi-vien-moi"] == 3 + 0
    assert values["chua-co"] is None  # the measure not available: no figure, not a zero
    assert values["so-ho"] == 100 + 250
    assert values["tien"] == 1_500_000 + 2_000_000
    assert values["ty-le"] is None and values["nhan-xet"] is None  # percentages and text are not added
    assert sorted(r.branch.name for r in result.included) == ["Phường Phúc Xá", "Phường Điện Biên"]
    assert [(b.name, r.state) for b, r in result.not_approved] == [("Phường Trúc Bạch", ReportState.SUBMITTED)]
    assert result.missing == []

    city = selectors.consolidation(period, tree.city)
    assert sorted(b.name for b in city.missing) == ["Quận Ba Đình", "Quận Hoàn Kiếm"]
    assert {row.field.code: row.value for s in city.sections for row in s.rows}["so-ho"] is None  # nothing to add


def _clerk(username, branch, **fields):
    user = UserFactory(username=username, **fields)
    StaffProfileFactory(user=user, branch=branch, role=StaffRole.CLERK)
    return user


def test_reminders_go_to_exactly_the_clerks_whose_report_is_due_within_7_days_or_late(tree, cast, year_form, period):
    today = datetime.date(2020, 12, 1)
    half = make_period(PeriodKind.HALF_YEAR, 2020)
    # Year: communes due in 4 days; districts in 9 days (not yet); the city in 14.
    deadlines(period, commune=datetime.date(2020, 12, 5), district=datetime.date(2020, 12, 10),
              city=datetime.date(2020, 12, 15))  # fmt: skip
    # Half-year: districts late by 11 days; communes late by 149 days (no longer reminded).
    deadlines(half, district=datetime.date(2020, 11, 20), commune=datetime.date(2020, 7, 5))
    truc_bach = _clerk("clerk_trucbach", tree.truc_bach)
    hang_bac = _clerk("clerk_hangbac", tree.hang_bac)
    _clerk("clerk_hangbac_noemail", tree.hang_bac, email="")
    _clerk("clerk_hangbac_gone", tree.hang_bac, is_active=False)
    ba_dinh = _clerk("clerk_badinh", tree.ba_dinh)
    sent(cast.commune_clerk, period, tree.phuc_xa, {})  # Phúc Xá has sent its year report
    services.report_values_save(actor=truc_bach, period=period, branch=tree.truc_bach, values={})  # a draft only

    count = services.reminders_send(today=today)

    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([truc_bach.email, hang_bac.email, ba_dinh.email, cast.sibling_clerk.email])
    assert count == 4
    by_address = {message.to[0]: message for message in mail.outbox}
    assert "05/12/2020" in by_address[truc_bach.email].body
    assert "20/11/2020" in by_address[ba_dinh.email].body
    assert cast.commune_clerk.email not in recipients  # sent already
    assert cast.manager.email not in recipients and cast.district_leader.email not in recipients  # not clerks

    assert services.reminders_send(today=today) == 0  # run twice the same day: nothing more
    assert len(mail.outbox) == 4
    assert ReminderSent.objects.filter(sent_on=today).count() == 4  # Trúc Bạch, Hàng Bạc, Ba Đình, Hoàn Kiếm


def test_the_beat_schedule_runs_the_reminders_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["report-reminders-daily"]
    assert entry["task"] == "reporting.tasks.reminders_send"


def test_the_lists_read_a_fixed_number_of_queries_whatever_the_number_of_branches(
    tree, cast, year_form, period, django_assert_num_queries, client_for
):
    def add_communes(count):
        for number in range(count):
            commune = make_branch(f"Phường Mới {number}", BranchLevel.COMMUNE, tree.ba_dinh)
            report = sent(cast.admin, period, commune, {"so-ho": "5"})
            services.report_approve(actor=cast.manager, report=report)

    add_communes(2)
    with django_assert_num_queries(3):
        selectors.period_rows(period, tree.city)
    with django_assert_num_queries(5):  # children, their reports, own report, the form's fields
        result = selectors.consolidation(period, tree.ba_dinh)
    assert {row.field.code: row.value for s in result.sections for row in s.rows}["so-ho"] == 10

    client = client_for(cast.district_leader)
    url = reverse("reporting:report_list", args=[period.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    add_communes(3)
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).status_code == 200
    assert len(more) == len(few)


def test_the_reminder_task_calls_the_service_for_today(tree, cast, year_form, period, eager):
    deadlines(period, commune=timezone.localdate() + datetime.timedelta(days=3))
    Report.objects.all().delete()
    assert reminders_send.delay().get() == 1  # Phúc Xá's clerk; Trúc Bạch and Hàng Bạc have none
    assert mail.outbox[0].to == [cast.commune_clerk.email]


def test_the_reminders_command_sends_todays_reminders_once(tree, cast, year_form, period):
    deadlines(period, commune=timezone.localdate() + datetime.timedelta(days=3))
    Report.objects.all().delete()
    out = io.StringIO()
    call_command("send_report_reminders", stdout=out)
    call_command("send_report_reminders", stdout=out)  # the same day again: nothing more
    assert out.getvalue().splitlines() == ["1 reminder(s) sent.", "0 reminder(s) sent."]
    assert [message.to for message in mail.outbox] == [[cast.commune_clerk.email]]
