"""The state machine of a report: submitted by its branch, approved by the level above,
accepted by the level above that, returned with a reason; a lower level never undoes a
higher level's decision; two people acting at once cannot both win."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from associations.models import AuditEntry, StaffRole
from reporting import selectors, services
from reporting.models import Report, ReportState, ReportTransition
from tests.factories import MemberFactory, StaffProfileFactory, UserFactory
from tests.reporting.factories import joined

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_clerk(tree):
    user = UserFactory(username="clerk_hanoi", first_name="Minh", last_name="Ngô")
    StaffProfileFactory(user=user, branch=tree.city, role=StaffRole.CLERK)
    return user


@pytest.fixture
def report(tree, cast, year_form, period):
    MemberFactory.create_batch(3, branch=tree.phuc_xa, joined_on=joined())
    return services.report_values_save(
        actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": "1.250", "nhan-xet": "Tốt"}
    )


def test_a_clerk_fills_and_submits_the_report_of_their_commune_with_the_records_figures(cast, report):
    assert report.state == ReportState.DRAFT
    assert report.values == {"so-ho": 1250, "nhan-xet": "Tốt"}

    report = services.report_submit(actor=cast.commune_clerk, report=report)

    assert report.state == ReportState.SUBMITTED
    assert report.snapshot["hoi-vien"] == 3
    assert report.snapshot["hoi-vien-moi"] == 3
    assert report.snapshot["so-ho"] == 1250
    assert report.snapshot["chua-co"] is None  # measure not registered: no figure, no crash
    transition = ReportTransition.objects.get(report=report)
    assert (transition.actor, transition.from_state, transition.to_state) == (
        cast.commune_clerk,
        ReportState.DRAFT,
        ReportState.SUBMITTED,
    )
    assert AuditEntry.objects.for_object(report).count() == 2  # created, then submitted


def test_the_form_is_frozen_by_the_first_report_that_uses_it(report, year_form):
    year_form.refresh_from_db()
    assert year_form.is_frozen
    assert report.form == year_form


def test_bad_values_are_refused_and_nothing_is_written(cast, tree, period, report):
    with pytest.raises(ValidationError) as error:
        services.report_values_save(
            actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": "-3", "ty-le": "140"}
        )
    assert set(error.value.message_dict) == {"so-ho", "ty-le"}
    report.refresh_from_db()
    assert report.values == {"so-ho": 1250, "nhan-xet": "Tốt"}


def test_leaders_and_outsiders_cannot_fill_a_report(cast, tree, period, year_form):
    for user in (cast.district_leader, cast.sibling_clerk):
        with pytest.raises(PermissionDenied):
            services.report_values_save(actor=user, period=period, branch=tree.phuc_xa, values={})
    assert not Report.objects.exists()


def test_only_the_level_above_approves(cast, report):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    for user in (cast.commune_clerk, cast.district_leader, cast.sibling_clerk):
        with pytest.raises(PermissionDenied):
            services.report_approve(actor=user, report=report)

    report = services.report_approve(actor=cast.manager, report=report)

    assert report.state == ReportState.APPROVED
    assert report.approved_by == cast.manager


def test_acceptance_comes_from_above_the_approver(cast, report, city_clerk):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    report = services.report_approve(actor=cast.manager, report=report)
    with pytest.raises(PermissionDenied):
        services.report_accept(actor=cast.manager, report=report)  # the approver's own level

    report = services.report_accept(actor=city_clerk, report=report)

    assert report.state == ReportState.ACCEPTED
    assert [t.to_state for t in selectors.transitions_of(report)] == ["submitted", "approved", "accepted"]


def test_a_lower_level_cannot_undo_a_higher_levels_decision(cast, report, city_clerk):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    report = services.report_approve(actor=city_clerk, report=report)  # the city approves directly

    for user in (cast.manager, cast.commune_clerk):  # the district, and the commune itself
        with pytest.raises(PermissionDenied):
            services.report_return(actor=user, report=report, reason="Sai số liệu")
    report.refresh_from_db()
    assert report.state == ReportState.APPROVED

    report = services.report_return(actor=city_clerk, report=report, reason="Sai số liệu")
    assert report.state == ReportState.DRAFT


def test_an_accepted_report_is_returned_only_from_the_accepting_level(cast, report, city_clerk):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    report = services.report_approve(actor=cast.manager, report=report)
    report = services.report_accept(actor=city_clerk, report=report)
    with pytest.raises(PermissionDenied):
        services.report_return(actor=cast.manager, report=report, reason="Xin sửa")
    assert services.report_return(actor=cast.admin, report=report, reason="Xin sửa").state == ReportState.DRAFT


def test_a_branch_cannot_change_its_report_once_sent(cast, tree, period, report):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    with pytest.raises(ValidationError, match="đã được Trần Thị Lan gửi lúc"):
        services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": 1})
    with pytest.raises(PermissionDenied):
        services.report_return(actor=cast.commune_clerk, report=report, reason="Tôi muốn sửa")


def test_a_returned_report_shows_its_reason_and_is_fixed_and_sent_again(cast, tree, period, report):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    first = report.first_submitted_at
    with pytest.raises(ValidationError):
        services.report_return(actor=cast.manager, report=report, reason="  ")

    report = services.report_return(actor=cast.manager, report=report, reason="Thiếu số hộ gia đình học tập")

    assert report.state == ReportState.DRAFT
    assert report.return_reason == "Thiếu số hộ gia đình học tập"
    assert report.snapshot is None
    last = selectors.transitions_of(report).last()
    assert (last.from_state, last.to_state, last.reason) == ("submitted", "draft", "Thiếu số hộ gia đình học tập")

    services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": "1300"})
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    assert report.snapshot["so-ho"] == 1300
    assert report.return_reason == ""
    assert report.first_submitted_at == first


def test_the_approved_figures_stay_and_the_page_shows_the_difference_with_todays_records(
    cast, tree, period, year_form, report
):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    report = services.report_approve(actor=cast.manager, report=report)
    MemberFactory(branch=tree.phuc_xa, joined_on=joined())  # a member recorded after approval

    report.refresh_from_db()
    rows = {
        row.field.code: row
        for section in selectors.report_sections(form=year_form, branch=tree.phuc_xa, period=period, report=report)
        for row in section.rows
    }
    assert report.snapshot["hoi-vien"] == 3
    assert (rows["hoi-vien"].value, rows["hoi-vien"].today, rows["hoi-vien"].difference) == (3, 4, 1)
    assert rows["so-ho"].value == 1250
    assert rows["so-ho"].difference is None
    assert not rows["chua-co"].available


def test_a_report_that_is_approved_refuses_a_second_approval_with_who_and_when(cast, report, city_clerk):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    seen = report.revision
    services.report_approve(actor=cast.manager, report=report, expected_revision=seen)
    with pytest.raises(ValidationError, match="đã được Vũ Thu Hà duyệt lúc"):
        services.report_approve(actor=city_clerk, report=report, expected_revision=seen)


@pytest.mark.django_db(transaction=True)
def test_two_people_approving_at_once_one_wins_and_the_other_is_told(transactional_db, cast, report, city_clerk):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    seen = report.revision
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def approve(user, name):
        try:
            barrier.wait()
            services.report_approve(actor=user, report=Report.objects.get(pk=report.pk), expected_revision=seen)
            outcomes[name] = "approved"
        except ValidationError as error:
            outcomes[name] = error.messages[0]
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(cast.manager, "district")),
        threading.Thread(target=approve, args=(city_clerk, "city")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["city", "district"]
    winners = [name for name, outcome in outcomes.items() if outcome == "approved"]
    assert len(winners) == 1
    loser = "city" if winners == ["district"] else "district"
    winner_name = {"district": "Vũ Thu Hà", "city": "Ngô Minh"}[winners[0]]
    assert outcomes[loser].startswith(f"Báo cáo này đã được {winner_name} duyệt lúc ")
    assert ReportTransition.objects.filter(report=report, to_state=ReportState.APPROVED).count() == 1


@pytest.mark.parametrize(
    ("code", "typed"),
    [
        ("so-ho", "-5"),
        ("so-ho", "12,5"),
        ("so-ho", "9" * 20),
        ("tien", "1e9"),
        ("ty-le", "100.5"),
        ("ty-le", "NaN"),
        ("nhan-xet", "Nguyễn\x00Văn An"),
        ("nhan-xet", "Nguyễn Văn \u202eAn"),
        ("nhan-xet", "x" * 4001),
    ],
)
def test_bad_input_is_refused_with_a_message_on_its_field(cast, tree, period, year_form, code, typed):
    with pytest.raises(ValidationError) as error:
        services.report_values_save(actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={code: typed})
    assert list(error.value.message_dict) == [code]
    assert not Report.objects.exists()


def test_values_as_people_type_them_are_kept(cast, tree, period, year_form):
    report = services.report_values_save(
        actor=cast.commune_clerk,
        period=period,
        branch=tree.phuc_xa,
        values={"so-ho": " 1 250 ", "tien": "1.500.000", "ty-le": "42,5", "nhan-xet": "Dòng 1\nDòng 2"},
    )
    assert report.values == {"so-ho": 1250, "tien": 1_500_000, "ty-le": 42.5, "nhan-xet": "Dòng 1\nDòng 2"}


def test_a_return_reason_with_control_characters_is_refused(cast, report):
    report = services.report_submit(actor=cast.commune_clerk, report=report)
    with pytest.raises(ValidationError):
        services.report_return(actor=cast.manager, report=report, reason="Sai\u202e số")
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED


def test_two_clerks_saving_the_same_draft_the_second_is_asked_to_reload(cast, tree, period, report):
    seen = report.revision
    services.report_values_save(
        actor=cast.commune_clerk, period=period, branch=tree.phuc_xa, values={"so-ho": "7"}, expected_revision=seen
    )
    with pytest.raises(ValidationError, match="vừa được người khác thay đổi"):
        services.report_values_save(
            actor=cast.admin, period=period, branch=tree.phuc_xa, values={"so-ho": "8"}, expected_revision=seen
        )
    report.refresh_from_db()
    assert report.values == {"so-ho": 7}
