"""Real concurrent transactions on PostgreSQL: each thread has its own connection."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum

from associations.access import user_root_branch
from funds.models import Donation, Fund, LedgerEntry
from scholarships.models import Award
from tests.factories import donate, make_round, pay

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every write to the whole file, so it cannot show row locks racing",
    ),
]

THREADS = 20
AWARD = 150_000


def run_together(work, count: int = THREADS) -> list:
    """Start `count` threads at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # the outcome of each racer is the point
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_payments_racing_for_a_fund_that_affords_twelve_let_exactly_twelve_through(cast, funds, tree):
    clerk = cast.commune_clerk
    user_root_branch(clerk)  # warm the profile cache shared by the threads
    donate(clerk, funds.phuc_xa, 12 * AWARD)
    scholarship_round = make_round(clerk, tree.phuc_xa, funds.phuc_xa)

    results = run_together(lambda index: pay(clerk, scholarship_round, AWARD, recipient_name=f"Học sinh {index}"))

    paid = [result for result in results if isinstance(result, Award)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert len(paid) == 12, results
    assert len(refused) == 8, results
    fund = Fund.objects.get(pk=funds.phuc_xa.pk)
    assert fund.balance == 0
    assert LedgerEntry.objects.filter(fund=fund).aggregate(total=Sum("amount"))["total"] == 0
    assert Award.objects.count() == 12  # refused awards were rolled back with their payment


def test_twenty_donations_saved_at_the_same_moment_get_receipt_numbers_one_to_twenty(cast, funds):
    clerk = cast.commune_clerk
    user_root_branch(clerk)

    results = run_together(lambda index: donate(clerk, funds.phuc_xa, 10_000 + index))

    assert all(isinstance(result, Donation) for result in results), results
    numbers = sorted(Donation.objects.filter(fund=funds.phuc_xa).values_list("receipt_number", flat=True))
    assert numbers == list(range(1, THREADS + 1))
    fund = Fund.objects.get(pk=funds.phuc_xa.pk)
    assert fund.balance == sum(10_000 + index for index in range(THREADS))
