"""Two clerks creating the commune's centre at once over dated (closed) periods: the commune's
branch row is locked while the overlap is checked, so exactly one wins. (An open-ended centre
is also held by the database's constraint; dated ones only by the lock.)"""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from associations.access import user_root_branch
from centres import services
from centres.models import Centre

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every write to the whole file, so it cannot show row locks racing",
    ),
]

RACERS = 6


def run_together(work, count: int) -> list:
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


def test_clerks_racing_to_create_overlapping_centres_let_exactly_one_through(cast, tree):
    clerk = cast.commune_clerk
    user_root_branch(clerk)  # warm the profile cache shared by the threads

    def create(index):
        return services.centre_create(
            actor=clerk,
            branch=tree.phuc_xa,
            data={
                "name": f"TTHTCĐ {index}",
                "founded_on": datetime.date(2010 + index, 1, 1),
                "dissolved_on": datetime.date(2030, 1, 1),
            },
        )

    results = run_together(create, RACERS)

    created = [result for result in results if isinstance(result, Centre)]
    refused = [result for result in results if isinstance(result, ValidationError)]
    assert (len(created), len(refused)) == (1, RACERS - 1), results
    assert Centre.objects.filter(branch=tree.phuc_xa).count() == 1
