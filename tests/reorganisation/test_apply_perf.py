"""The apply's set-based statements (issue 11, item 7) give what the step-by-step version gave:
re-hung chapters' paths as treebeard allocates them, each record moved once."""

import datetime

from associations.models import Branch, BranchLevel, Member, RecordMove
from reorganisation import services
from reorganisation.tables import WHOLE, TableRow
from tests.factories import MemberFactory, OrganizationFactory, make_branch

DAY = datetime.date(2025, 7, 1)
INTO_TRUC_BACH = [
    TableRow(
        row=3, old_code="00001", old_name="Phường Phúc Xá", new_code="00004", new_name="Phường Trúc Bạch", kind=WHOLE
    )
]


def test_chapters_re_hung_under_a_unit_with_children_follow_its_last_child_in_their_old_order(cast, tree):
    kept = [
        make_branch(f"Chi hội Trúc Bạch {n}", BranchLevel.CHAPTER, tree.truc_bach, founded_on=datetime.date(2018, 1, 1))
        for n in (1, 2)
    ]
    moving = [
        make_branch(f"Chi hội Phúc Xá {n}", BranchLevel.CHAPTER, tree.phuc_xa, founded_on=datetime.date(2018, 1, 1))
        for n in (1, 2, 3)
    ]
    below = make_branch("Tổ khuyến học", BranchLevel.CHAPTER, moving[1], founded_on=datetime.date(2018, 1, 1))
    closed = make_branch(
        "Chi hội đã giải thể",
        BranchLevel.CHAPTER,
        tree.phuc_xa,
        founded_on=datetime.date(2018, 1, 1),
        dissolved_on=datetime.date(2024, 1, 1),
    )
    tree.truc_bach.refresh_from_db()
    children = list(Branch.objects.get_children(tree.truc_bach))
    assert set(kept) <= set(children)
    last = max(Branch._str2int(child.path[-Branch.steplen :]) for child in children)
    reorganisation = services.reorganisation_create(
        actor=cast.admin, name="Nhập Phúc Xá", legal_basis="", effective_on=DAY, rows=INTO_TRUC_BACH
    )

    assert services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation).applied

    tree.truc_bach.refresh_from_db()
    for offset, chapter in enumerate(moving, start=1):
        chapter.refresh_from_db()
        assert chapter.path == Branch._get_path(tree.truc_bach.path, tree.truc_bach.depth + 1, last + offset)
        assert chapter.depth == tree.truc_bach.depth + 1
    below.refresh_from_db()
    assert below.path.startswith(moving[1].path) and below.depth == moving[1].depth + 1
    assert tree.truc_bach.numchild == len(children) + len(moving)
    closed.refresh_from_db()
    assert closed.path.startswith(tree.phuc_xa.path)  # closed before the day: it stays
    moves = RecordMove.objects.filter(reorganisation=reorganisation, record_type="associations.branch")
    assert sorted(moves.values_list("record_id", "from_branch_id", "to_branch_id")) == sorted(
        (chapter.pk, tree.phuc_xa.pk, tree.truc_bach.pk) for chapter in moving
    )


def test_each_moved_member_is_recorded_once_whichever_way_it_moved(cast, tree):
    organisation = OrganizationFactory(branch=tree.phuc_xa, name="Công ty Phúc Xá")
    with_organisation = MemberFactory.create_batch(2, branch=tree.phuc_xa, organization=organisation)
    alone = MemberFactory(branch=tree.phuc_xa)
    left = MemberFactory(branch=tree.phuc_xa, left_on=datetime.date(2021, 5, 1), left_reason="Chuyển đi")
    reorganisation = services.reorganisation_create(
        actor=cast.admin, name="Nhập Phúc Xá", legal_basis="", effective_on=DAY, rows=INTO_TRUC_BACH
    )

    result = services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)

    moved = [*with_organisation, alone]
    assert result.counts["associations.member"] == len(moved)
    assert set(Member.objects.filter(branch=tree.truc_bach).values_list("pk", flat=True)) >= {m.pk for m in moved}
    moves = RecordMove.objects.filter(reorganisation=reorganisation, record_type="associations.member")
    assert sorted(moves.values_list("record_id", flat=True)) == sorted(m.pk for m in moved)
    left.refresh_from_db()
    assert left.branch_id == tree.phuc_xa.pk
