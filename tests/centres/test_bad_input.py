"""The bad-input corpus (tests/corpus/test_bad_input.py) posted to the centres' forms and
uploaded to their import: each bad value gets its clear message, never a server error, and
nothing is written."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from associations.models import AuditEntry
from centres.models import Activity, Centre, CentreBoardSeat, CentreStaff
from imports import services as import_services
from imports.models import ImportStatus
from tests.centres import factories
from tests.centres.test_imports import GOOD, HEADERS
from tests.corpus.test_bad_input import LONG, NUL, RTL, bad_workbooks, workbook_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

TODAY = timezone.localdate()
TOMORROW = (TODAY + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
CONTROL = "This text contains invisible control characters; please retype it."
NULL_CHARACTERS = "Null characters are not allowed."
INVALID_DATE = "Enter a valid date."


@pytest.fixture(autouse=True)
def _english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the messages' source text, until translated
    with translation.override("en"):
        yield


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Centre, CentreBoardSeat, CentreStaff, Activity,
                                                               AuditEntry)}  # fmt: skip


def too_long(limit: int, text: str) -> str:
    return f"Ensure this value has at most {limit} characters (it has {len(text.strip())})."


def forms(tree, centre):
    year = str(TODAY.year)
    return [
        (
            "centre",
            reverse("centres:centre_create"),
            {"branch": tree.truc_bach.pk, "name": "TTHTCĐ Trúc Bạch", "founded_on": "01/01/2015"},
            [
                ({"name": LONG}, too_long(200, LONG)),
                ({"name": NUL}, NULL_CHARACTERS),
                ({"name": RTL}, CONTROL),
                ({"founded_on": TOMORROW}, "The date of founding cannot be in the future."),
                ({"founded_on": "31/02/2024"}, INVALID_DATE),
                ({"dissolved_on": "01/01/2010"}, "The centre must be dissolved after the day it was founded."),
                ({"branch": tree.ba_dinh.pk}, "Select a valid choice."),
                ({"branch": tree.hang_bac.pk}, "Select a valid choice."),
            ],
        ),
        (
            "board seat",
            reverse("centres:seat_create", args=[centre.pk]),
            {"person_name": "Nguyễn Thị Mai", "board_role": "deputy", "association_post": "chair"},
            [
                ({"person_name": LONG}, too_long(200, LONG)),
                ({"person_name": RTL}, CONTROL),
                ({"board_role": "president"}, "Select a valid choice."),
                (
                    {"from_on": "01/01/2024", "to_on": "01/01/2023"},
                    "A person leaves the board after the day they joined it.",
                ),
            ],
        ),
        (
            "staff",
            reverse("centres:staff_create", args=[centre.pk]),
            {"year": year, "person_name": "Phạm Văn Hòa", "association_role": "officer", "takes_part": "on"},
            [
                ({"year": "1800"}, "Ensure this value is greater than or equal to 2000."),
                ({"year": str(TODAY.year + 1)}, "The year cannot be in the future."),
                ({"year": "hai nghìn"}, "Enter a whole number."),
                ({"person_name": NUL}, NULL_CHARACTERS),
            ],
        ),
        (
            "activity",
            reverse("centres:activity_create", args=[centre.pk]),
            {
                "kind": "law",
                "title": "Chuyên đề Luật Đất đai",
                "starts_on": "04/03/2024",
                "ends_on": "04/03/2024",
                "sessions": "1",
                "participant_turns": "80",
                "funding": "1.500.000",
                "funding_source": "state",
            },
            [
                ({"title": LONG}, too_long(255, LONG)),
                ({"title": RTL}, CONTROL),
                ({"funding": "1,5"}, "Expected a whole number such as 1500000, 1.500.000 or 1,500,000 (no decimals)."),
                ({"funding": "-5"}, "The funding is a whole number of đồng, 0 or more."),
                ({"funding": "9" * 20}, "The amount is implausibly large."),
                ({"funding_source": ""}, "Say where the funding came from."),
                ({"sessions": "-1"}, "Ensure this value is greater than or equal to 0."),
                ({"sessions": "0"}, "An activity has at least one session."),
                (
                    {"starts_on": TOMORROW, "ends_on": TOMORROW},
                    "An activity is recorded once it has started: the start date cannot be in the future.",
                ),
                ({"ends_on": "01/01/2024"}, "The activity cannot end before it starts."),
                (
                    {"starts_on": "01/01/1990", "ends_on": "01/01/1990"},
                    f"The centre {centre.name} was not active on 01/01/1990.",
                ),
                ({"kind": "karaoke"}, "Select a valid choice."),
            ],
        ),
    ]


def test_every_centre_form_refuses_every_bad_input_with_its_message_writing_nothing(client_for, cast, tree):
    centre = factories.centre(tree.phuc_xa, founded_on=datetime.date(2015, 1, 1))
    client = client_for(cast.manager)
    failures, tried = [], 0
    for name, url, valid, bad in forms(tree, centre):
        for change, message in bad:
            before = counts()
            response = client.post(url, {**valid, **change})
            page = response.content.decode()
            if response.status_code != 200:
                failures.append(f"{name} {change}: status {response.status_code}")
            elif escape(message) not in page:
                failures.append(f"{name} {str(change)[:60]}: no “{message}” on the page")
            if counts() != before:
                failures.append(f"{name} {str(change)[:60]}: wrote something")
            tried += 1
        # The valid payload goes through: each refusal above is its one bad value's.
        assert client.post(url, valid).status_code == 302, name
    assert failures == [], "\n".join(failures)
    assert tried == 28


def test_the_activity_import_refuses_every_bad_workbook_writing_nothing(cast, tree):
    factories.centre(tree.phuc_xa)
    for what, content, _message in bad_workbooks(HEADERS, whole_files=False):
        job = import_services.job_create(
            actor=cast.commune_clerk,
            kind="centre_activities",
            branch=tree.phuc_xa,
            upload=SimpleUploadedFile("hoat-dong.xlsx", content),
        )
        import_services.job_check(job.pk)
        job.refresh_from_db()
        assert job.status in {ImportStatus.INVALID, ImportStatus.FAILED}, what
        assert not Activity.objects.exists(), what
    # And the same workbook writer with good rows is accepted: the refusals are the bad files'.
    good = workbook_bytes(HEADERS, [GOOD[0]])
    job = import_services.job_create(
        actor=cast.commune_clerk, kind="centre_activities", branch=tree.phuc_xa,
        upload=SimpleUploadedFile("hoat-dong.xlsx", good),
    )  # fmt: skip
    import_services.job_check(job.pk)
    job.refresh_from_db()
    assert (job.status, job.to_create) == (ImportStatus.CHECKED, 1), job.errors
