"""The dry run and the apply are set-based: their query counts do not grow with the data."""

import datetime

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from learning.models import Household
from reorganisation import services
from reorganisation.tables import WHOLE, TableRow
from tests.factories import MemberFactory, donate, org_with_board

DAY = datetime.date(2025, 7, 1)


def _row(number, old_code, old_name, new_code, new_name):
    return TableRow(row=number, old_code=old_code, old_name=old_name, new_code=new_code, new_name=new_name, kind=WHOLE)


ROWS = [
    _row(3, "00001", "Phường Phúc Xá", "00004", "Phường Ba Đình"),
    _row(4, "00004", "Phường Trúc Bạch", "00004", "Phường Ba Đình"),
    _row(5, "00061", "Phường Hàng Bạc", "00070", "Phường Hoàn Kiếm"),
]


def _grow(tree, times):
    for branch in (tree.phuc_xa, tree.truc_bach, tree.hang_bac):
        for _ in range(times):
            organisation = org_with_board(branch)
            MemberFactory.create_batch(3, branch=branch, organization=organisation)
            MemberFactory(branch=branch)
            Household.objects.create(branch=branch, head_name="Nguyễn Văn Hộ", address="Số 1", people=4)


def _queries(cast, tree):
    """How many queries the dry run and the apply take, rolled back afterwards."""
    with transaction.atomic():
        reorganisation = services.reorganisation_create(
            actor=cast.admin, name="Thử", legal_basis="", effective_on=DAY, rows=ROWS
        )
        services.decisions_prepare(actor=cast.admin, reorganisation=reorganisation)
        for district in (tree.ba_dinh, tree.hoan_kiem):
            services.unit_decide(
                actor=cast.admin,
                reorganisation=reorganisation,
                branch=district,
                successor_code="00004",
                account_action="city_read_only",
            )
        with CaptureQueriesContext(connection) as dry_run:
            services.reorganisation_plan(reorganisation=reorganisation)
        with CaptureQueriesContext(connection) as applying:
            assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied
        transaction.set_rollback(True)
    return len(dry_run), len(applying)


def test_the_dry_run_and_the_apply_take_as_many_queries_for_more_data(cast, tree, funds):
    for fund in (funds.phuc_xa, funds.truc_bach, funds.ba_dinh, funds.hoan_kiem):
        donate(cast.admin, fund, 1_000_000, day=datetime.date(2025, 3, 1))
    _grow(tree, 1)
    small = _queries(cast, tree)
    _grow(tree, 6)
    assert _queries(cast, tree) == small
