"""Applying a reorganisation on the cast's small tree: what moves, what stays, what is
conserved, and what is refused."""

import datetime
import io

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Sum
from openpyxl import Workbook, load_workbook

from associations.models import Branch, BranchLevel, Member, Organization, RecordMove, Reorganisation, StaffRole
from funds.models import Donation, Fund, ReceiptCounter, Transfer
from khuyenhoc.xlsx import write_workbook
from learning.models import Community
from reorganisation import services
from reorganisation.models import AccountAction, ReorganisationDecision
from reorganisation.tables import PART, WHOLE, TableRow
from reorganisation.workbooks import HEADERS, decisions_import, decisions_sheet
from scholarships.models import Award
from tests.factories import MemberFactory, OrganizationFactory, donate, make_branch, make_round, org_with_board, pay

DAY = datetime.date(2025, 7, 1)


def _row(number, old_code, old_name, new_code, new_name, kind=WHOLE):
    return TableRow(row=number, old_code=old_code, old_name=old_name, new_code=new_code, new_name=new_name, kind=kind)


MERGE = [
    _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Ba Đình"),
    _row(4, "00004", "Phường Trúc Bạch", "00004", "Phường Ba Đình"),
]


@pytest.fixture
def filled(cast, tree, funds):
    """Members, an organisation with its board, donations, a scholarship round and awards."""
    organisation = org_with_board(tree.phuc_xa, name="Trường Tiểu học Phúc Xá")
    MemberFactory.create_batch(3, branch=tree.phuc_xa, organization=organisation)
    alone = MemberFactory(branch=tree.phuc_xa, full_name="Hoàng Văn Một")
    left = MemberFactory(branch=tree.phuc_xa, left_on=datetime.date(2021, 5, 1), left_reason="Chuyển đi")
    MemberFactory.create_batch(2, branch=tree.truc_bach)
    ended = OrganizationFactory(
        branch=tree.phuc_xa, name="Hợp tác xã đã giải thể", active_to=datetime.date(2024, 12, 31)
    )
    clerk = cast.admin
    donate(clerk, funds.phuc_xa, 5_000_000, day=datetime.date(2025, 3, 1))
    donate(clerk, funds.phuc_xa, 1_000_000, day=datetime.date(2025, 4, 1))
    donate(clerk, funds.phuc_xa_clan, 700_000, day=datetime.date(2025, 4, 2))
    donate(clerk, funds.truc_bach, 2_000_000, day=datetime.date(2025, 2, 1))
    donate(clerk, funds.ba_dinh, 9_000_000, day=datetime.date(2025, 2, 1))
    scholarship_round = make_round(
        clerk, tree.phuc_xa, funds.phuc_xa, awarded_on=datetime.date(2025, 5, 1), school_year="2024-2025"
    )
    pay(clerk, scholarship_round, 500_000, day=datetime.date(2025, 5, 1))
    pay(clerk, scholarship_round, 300_000, day=datetime.date(2025, 5, 1))
    return {"organisation": organisation, "alone": alone, "left": left, "ended": ended}


def _figures():
    return {
        "members": Member.objects.count(),
        "active members": Member.objects.filter(left_on__isnull=True).count(),
        "organisations": Organization.objects.count(),
        "balances": Fund.objects.aggregate(total=Sum("balance"))["total"],
        "awards": Award.objects.count(),
        "receipts": Donation.objects.count(),
    }


def _decide_district(cast, tree, reorganisation):
    services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    services.decision_set(
        actor=cast.admin,
        reorganisation=reorganisation,
        record_type="associations.staffprofile",
        record_id=cast.district_leader.staff_profile.pk,
        account_action=AccountAction.DEACTIVATE,
    )
    services.decision_set(
        actor=cast.admin,
        reorganisation=reorganisation,
        record_type="associations.staffprofile",
        record_id=cast.manager.staff_profile.pk,
        account_action=AccountAction.CITY_READ_ONLY,
    )
    services.unit_decide(actor=cast.admin, reorganisation=reorganisation, branch=tree.ba_dinh, successor_code="00004")


def _create(cast, rows=MERGE, name="Sắp xếp 2025"):
    return services.reorganisation_create(
        actor=cast.admin, name=name, legal_basis="1656/NQ-UBTVQH15", effective_on=DAY, rows=rows
    )


def test_a_whole_merge_moves_people_and_money_and_conserves_every_total(cast, tree, funds, filled):
    before = _figures()
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    result = services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)

    assert result.applied
    assert _figures() == before
    ba_dinh_ward = Branch.objects.get(code="00004", founded_on=DAY)
    assert ba_dinh_ward.name == "Phường Ba Đình"
    assert ba_dinh_ward.depth == 2  # directly under the city
    for old in (tree.phuc_xa, tree.truc_bach, tree.ba_dinh):
        old.refresh_from_db()
        assert old.dissolved_on == DAY
    tree.hoan_kiem.refresh_from_db()
    assert tree.hoan_kiem.dissolved_on is None
    # Alive members moved; the one who left in 2021 stays where she was.
    assert Member.objects.filter(branch=ba_dinh_ward).count() == 6
    filled["left"].refresh_from_db()
    assert filled["left"].branch_id == tree.phuc_xa.pk
    # So does the organisation that ended before the effective day: no move recorded for either.
    filled["ended"].refresh_from_db()
    assert filled["ended"].branch_id == tree.phuc_xa.pk
    assert not RecordMove.objects.filter(record_type="associations.member", record_id=filled["left"].pk).exists()
    assert not RecordMove.objects.filter(record_type="associations.organization", record_id=filled["ended"].pk).exists()
    filled["organisation"].refresh_from_db()
    assert filled["organisation"].branch_id == ba_dinh_ward.pk
    # The board is re-hung with its subtree under the new ward.
    board = Branch.objects.get(level=BranchLevel.BOARD)
    assert board.path.startswith(ba_dinh_ward.path) and board.depth == ba_dinh_ward.depth + 1
    assert RecordMove.objects.filter(
        record_type="associations.branch", record_id=board.pk, from_branch=tree.phuc_xa, to_branch=ba_dinh_ward
    ).exists()
    assert RecordMove.objects.filter(record_type="associations.member").count() == 6
    # Old funds stay with their dissolved branch, empty and closed; the money is in the new ward's funds.
    for fund in (funds.phuc_xa, funds.truc_bach, funds.ba_dinh, funds.phuc_xa_clan):
        fund.refresh_from_db()
        assert fund.balance == 0 and fund.closed_on == DAY
    new_funds = Fund.objects.filter(branch=ba_dinh_ward)
    assert new_funds.count() == 2  # one per kind of fund
    assert sum(f.balance for f in new_funds) == 5_000_000 + 1_000_000 + 700_000 + 2_000_000 + 9_000_000 - 800_000
    assert Transfer.objects.filter(transferred_on=DAY).count() == 4
    # Receipt numbering continues after the predecessors' highest number of the year.
    main = new_funds.get(fund_model=funds.phuc_xa.fund_model)
    assert ReceiptCounter.objects.get(fund=main, year=2025).last_number == 2
    assert donate(cast.admin, main, 100_000, day=datetime.date(2025, 7, 2)).receipt_label == "00003/2025"
    # Accounts: the clerk followed her ward; the district's as decided.
    cast.commune_clerk.staff_profile.refresh_from_db()
    assert cast.commune_clerk.staff_profile.branch_id == ba_dinh_ward.pk
    cast.manager.staff_profile.refresh_from_db()
    assert cast.manager.staff_profile.branch_id == tree.city.pk
    assert cast.manager.staff_profile.role == StaffRole.LEADER
    cast.district_leader.refresh_from_db()
    assert not cast.district_leader.is_active
    reorganisation.refresh_from_db()
    assert reorganisation.status == Reorganisation.Status.APPLIED
    assert reorganisation.edges.filter(predecessor=tree.phuc_xa, successor=ba_dinh_ward, kind=WHOLE).exists()


def _row_counts():
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def test_the_dry_run_writes_nothing(cast, tree, funds, filled):
    reorganisation = _create(cast)
    before = _row_counts()

    plan = services.reorganisation_plan(reorganisation=reorganisation)

    assert _row_counts() == before
    assert plan.totals["members"] == 6 and plan.totals["boards"] == 1
    assert plan.totals["balance"] == 5_000_000 + 1_000_000 + 700_000 + 2_000_000 + 9_000_000 - 800_000
    assert plan.totals["accounts"] == 3
    assert [unit.code for unit in plan.new_units] == ["00004"]
    assert plan.undecided > 0  # the district's own fund and accounts


def test_applying_the_same_table_twice_changes_nothing(cast, tree, funds, filled):
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)
    services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)
    counts = _row_counts()

    again = services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)
    assert not again.applied and "đã áp dụng ngày" in again.message
    assert _row_counts() == counts

    copy = _create(cast, name="Sắp xếp 2025 (tải lại)")
    counts = _row_counts()
    result = services.reorganisation_apply(actor=cast.admin, reorganisation=copy)
    assert not result.applied and "đã được sắp xếp ngày" in result.message
    assert _row_counts() == counts


def test_a_part_merge_with_an_undecided_item_refuses_and_names_it(cast, tree, funds, filled):
    rows = [
        _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Ba Đình", kind=PART),
        _row(4, "00001", "Phường Phúc Xá", "00061", "Phường Hàng Bạc", kind=PART),
        _row(5, "00004", "Phường Trúc Bạch", "00004", "Phường Ba Đình"),
    ]
    reorganisation = _create(cast, rows=rows)
    _decide_district(cast, tree, reorganisation)
    counts = _row_counts()

    with pytest.raises(ValidationError) as refusal:
        services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)

    assert "Trường Tiểu học Phúc Xá" in str(refusal.value)
    assert "Hoàng Văn Một" in str(refusal.value)
    assert _row_counts() == counts
    tree.phuc_xa.refresh_from_db()
    assert tree.phuc_xa.dissolved_on is None


def test_a_part_merge_applies_once_every_item_has_a_home(cast, tree, funds, filled):
    rows = [
        _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Ba Đình", kind=PART),
        _row(4, "00001", "Phường Phúc Xá", "00061", "Phường Hàng Bạc", kind=PART),
        _row(5, "00004", "Phường Trúc Bạch", "00004", "Phường Ba Đình"),
    ]
    reorganisation = _create(cast, rows=rows)
    _decide_district(cast, tree, reorganisation)
    services.decision_set(
        actor=cast.admin,
        reorganisation=reorganisation,
        record_type="associations.organization",
        record_id=filled["organisation"].pk,
        successor_code="00061",
    )
    services.unit_decide(actor=cast.admin, reorganisation=reorganisation, branch=tree.phuc_xa, successor_code="00004")
    before = _figures()

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    assert _figures() == before
    # The organisation and its three members went to Hàng Bạc, which kept its name and code.
    assert Member.objects.filter(branch=tree.hang_bac).count() == 3
    tree.hang_bac.refresh_from_db()
    assert tree.hang_bac.dissolved_on is None
    # Its board went with it, without a decision of its own.
    board = Branch.objects.get(level=BranchLevel.BOARD)
    assert board.path.startswith(tree.hang_bac.path) and board.depth == tree.hang_bac.depth + 1
    filled["alone"].refresh_from_db()
    assert filled["alone"].branch.name == "Phường Ba Đình"


def test_a_decision_naming_an_unknown_unit_is_refused(cast, tree, funds, filled):
    reorganisation = _create(cast)
    services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    with pytest.raises(ValidationError, match="Sẽ không có đơn vị nào mã 99999"):
        services.unit_decide(
            actor=cast.admin, reorganisation=reorganisation, branch=tree.ba_dinh, successor_code="99999"
        )


def test_the_decisions_workbook_goes_out_and_comes_back(cast, tree, funds, filled, tmp_path):
    reorganisation = _create(cast)
    services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    output = tmp_path / "quyet-dinh.xlsx"
    with output.open("wb") as handle:
        write_workbook(handle, [decisions_sheet(reorganisation)])
    workbook = load_workbook(output)
    sheet = workbook.worksheets[0]
    header_row = next(row[0].row for row in sheet.iter_rows() if row[0].value == "Loại bản ghi")
    rows = {
        (sheet.cell(row, 1).value, int(sheet.cell(row, 2).value)): row
        for row in range(header_row + 1, sheet.max_row + 1)
    }
    manager = ("associations.staffprofile", cast.manager.staff_profile.pk)
    assert manager in rows and ("funds.fund", funds.ba_dinh.pk) in rows
    for key, row in rows.items():
        if key == manager:
            sheet.cell(row, 8).value = "deactivate"
        else:
            sheet.cell(row, 7).value = 4  # a spreadsheet dropped the zeros of 00004
    workbook.save(output)

    assert decisions_import(actor=cast.admin, reorganisation=reorganisation, data=output.read_bytes()) == len(rows)

    assert services.reorganisation_plan(reorganisation=reorganisation).undecided == 0
    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied


def test_a_decisions_workbook_with_a_bad_row_changes_nothing(cast, tree, funds, filled, tmp_path):
    reorganisation = _create(cast)
    services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    sheet.append(["funds.fund", funds.ba_dinh.pk, "", "", "", "", "00004", ""])
    sheet.append(["funds.fund", funds.ba_dinh.pk + 1000, "", "", "", "", "00004", ""])
    sheet.append(["associations.staffprofile", cast.manager.staff_profile.pk, "", "", "", "", "", "promote"])
    output = io.BytesIO()
    workbook.save(output)

    with pytest.raises(ValidationError) as error:
        decisions_import(actor=cast.admin, reorganisation=reorganisation, data=output.getvalue())

    assert "Dòng 3: bản ghi này không có trong danh sách cần quyết định." in error.value.messages
    assert "Dòng 4: không rõ cách xử lý tài khoản 'promote'." in error.value.messages
    assert not ReorganisationDecision.objects.exclude(successor_code="").exists()


def test_the_command_prints_a_dry_run_and_changes_nothing(cast, tree, funds, filled, tmp_path):
    table = tmp_path / "bang.csv"
    table.write_text(
        "Tỉnh thành phố,Tên Xã mới,Mã Xã mới,Tên Xã cũ,Mã Xã cũ,Ghi chú\n"
        "Hà Nội,Phường Ba Đình,00004,Phường Phúc Xá,00001,Nhập toàn bộ\n"
        "Hà Nội,Phường Ba Đình,00004,Phường Trúc Bạch,00004,Nhập toàn bộ\n",
        encoding="utf-8",
    )
    counts = _row_counts()
    output = io.StringIO()

    call_command(
        "reorganise", str(table), name="Thử", effective_on="01/07/2025", legal_basis="1656/NQ-UBTVQH15", stdout=output
    )

    assert _row_counts() == counts
    text = output.getvalue()
    assert "Phường Phúc Xá (00001) → 00004 Phường Ba Đình [whole]: " in text
    assert "Dry run: nothing was changed." in text


def test_a_successor_founded_ahead_under_another_code_is_found_by_its_name(cast, tree, funds, filled):
    # The 2025 map loaded ahead numbers the ward 00010; the conversion table still says 00004.
    founded = make_branch(
        "Phường Ba Đình", BranchLevel.COMMUNE, tree.city, code="00010", founded_on=DAY, division_type="phuong"
    )
    reorganisation = _create(cast)

    plan = services.reorganisation_plan(reorganisation=reorganisation)

    assert plan.new_units == []
    unit = next(unit for unit in plan.units if unit.predecessor == tree.phuc_xa)
    assert unit.successors == [("00010", "Phường Ba Đình")]
    services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
    with pytest.raises(ValidationError, match="Sẽ không có đơn vị nào mã 00004"):
        services.unit_decide(
            actor=cast.admin, reorganisation=reorganisation, branch=tree.ba_dinh, successor_code="00004"
        )
    services.unit_decide(actor=cast.admin, reorganisation=reorganisation, branch=tree.ba_dinh, successor_code="00010")
    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied
    assert Member.objects.filter(branch=founded).count() == 6


def test_two_residential_groups_of_the_same_name_keep_apart_after_a_merge(cast, tree, funds, filled):
    first = Community.objects.create(branch=tree.phuc_xa, name="Tổ dân phố số 1")
    second = Community.objects.create(branch=tree.truc_bach, name="Tổ dân phố số 1")
    other = Community.objects.create(branch=tree.truc_bach, name="Tổ dân phố số 2")
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)

    services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)

    names = {c.pk: (c.name, c.branch.name) for c in Community.objects.select_related("branch")}
    assert names[first.pk] == ("Tổ dân phố số 1 (Phường Phúc Xá)", "Phường Ba Đình")
    assert names[second.pk] == ("Tổ dân phố số 1 (Phường Trúc Bạch)", "Phường Ba Đình")
    assert names[other.pk] == ("Tổ dân phố số 2", "Phường Ba Đình")


def test_a_unit_keeping_its_name_is_founded_anew_when_its_district_goes(cast, tree, funds, filled):
    rows = [
        _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Trúc Bạch"),
        _row(4, "00004", "Phường Trúc Bạch", "00004", "Phường Trúc Bạch"),
    ]
    reorganisation = _create(cast, rows=rows)
    _decide_district(cast, tree, reorganisation)

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    tree.truc_bach.refresh_from_db()
    assert tree.truc_bach.dissolved_on == DAY
    anew = Branch.objects.get(code="00004", founded_on=DAY)
    assert (anew.name, anew.depth) == ("Phường Trúc Bạch", 2)
    assert reorganisation.edges.filter(predecessor=tree.truc_bach, successor=anew, kind=WHOLE).exists()
    assert Member.objects.filter(branch=anew).count() == 6


def test_a_unit_keeping_its_name_under_a_district_that_stays_is_not_touched(cast, tree, funds, filled):
    rows = [_row(3, "00001", "Phường Phúc Xá", "00004", "Phường Trúc Bạch")]
    reorganisation = services.reorganisation_create(
        actor=cast.admin, name="Nhập Phúc Xá", legal_basis="", effective_on=DAY, rows=rows
    )

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    tree.truc_bach.refresh_from_db()
    assert tree.truc_bach.dissolved_on is None
    assert Member.objects.filter(branch=tree.truc_bach).count() == 6
    assert not Branch.objects.filter(founded_on=DAY).exists()
