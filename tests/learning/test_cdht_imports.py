"""A citizen's village from the import's column "Thôn, tổ dân phố": looked up among the villages
of her commune (the commune above her chapter), an unknown name is the row's error."""

from __future__ import annotations

from associations.models import AuditEntry, BranchLevel
from learning.models import Citizen
from tests.factories import make_branch
from tests.learning.factories import CommunityFactory
from tests.learning.test_subject_imports import CITIZEN_HEADERS, _media_and_english, check, errors_of, run  # noqa: F401

HEADERS = [*CITIZEN_HEADERS, "Thôn, tổ dân phố"]


def test_citizens_are_linked_to_the_village_named_under_their_commune_even_from_a_chapter(cast, tree):
    village = CommunityFactory(branch=tree.phuc_xa, name="Tổ dân phố số 5")
    CommunityFactory(branch=tree.truc_bach, name="Tổ dân phố số 5")  # same name, another ward
    make_branch("Chi hội Tổ 5", BranchLevel.CHAPTER, tree.phuc_xa, code="00001-05")
    rows = [
        ["Nguyễn Văn An", "25/03/1980", None, "00001", "tổ dân phố  số 5"],
        ["Trần Thị Bình", "02/02/1982", None, "Chi hội Tổ 5", "Tổ dân phố số 5"],
        ["Lê Văn Cường", "03/03/1983", None, "00001", None],
    ]
    job = run(cast.commune_clerk, tree.phuc_xa, "citizens", HEADERS, rows)
    assert job.status == "applied", job.errors
    citizens = {c.full_name: c for c in Citizen.objects.all()}
    assert citizens["Nguyễn Văn An"].community == village
    assert citizens["Trần Thị Bình"].community == village
    assert citizens["Lê Văn Cường"].community is None
    entry = AuditEntry.objects.for_object(citizens["Nguyễn Văn An"]).get()
    assert "Tổ dân phố số 5" in entry.changes.values()

    # An empty cell leaves the village as it was.
    run(cast.commune_clerk, tree.phuc_xa, "citizens", HEADERS, [["Nguyễn Văn An", "25/03/1980", None, "00001", None]])
    assert Citizen.objects.get(full_name="Nguyễn Văn An").community == village


def test_a_village_not_registered_under_her_commune_is_the_rows_error(cast, tree):
    CommunityFactory(branch=tree.truc_bach, name="Tổ dân phố số 7")
    job = check(
        cast.commune_clerk,
        tree.phuc_xa,
        "citizens",
        HEADERS,
        [["Nguyễn Văn An", "25/03/1980", None, "00001", "Tổ dân phố số 7"]],
    )
    assert errors_of(job) == {
        (2, "Thôn, tổ dân phố", "No village or residential group of this name is registered under her commune or ward.")
    }
    assert not Citizen.objects.exists()
