"""`associations.rollup.figures_store` (PostgreSQL: one INSERT … SELECT FROM unnest per 50 000
rows; elsewhere bulk_create) makes the stored figures equal what was computed."""

import datetime

from django.db.models import F

from associations.rollup import figures_store
from learning.models import TitleFigure, TitleKind

FIELDS = ["eligible", "registered", "evaluated", "recognised"]


def _store(totals):
    return figures_store(
        TitleFigure, keys=["branch_id", "kind_id", "year"], values=FIELDS, totals=totals, touch=["computed_at"]
    )


def _stored():
    return {
        (row[0], row[1], row[2]): tuple(row[3:])
        for row in TitleFigure.objects.values_list("branch_id", "kind_id", "year", *FIELDS)
    }


def test_stored_figures_are_inserted_updated_and_deleted_to_equal_the_computed_ones(tree):
    kind = TitleKind.objects.create(code="thu-store", name="Thử lưu", subject_type="household")
    ward, other = tree.phuc_xa, tree.hang_bac
    first = {(ward.pk, kind.pk, 2024): (10, 5, 4, 3), (other.pk, kind.pk, 2024): (7, 2, 2, 1)}
    assert _store(first) == 2
    assert _stored() == first
    TitleFigure.objects.update(computed_at=F("computed_at") - datetime.timedelta(days=1))
    before = dict(TitleFigure.objects.values_list("branch_id", "computed_at"))

    second = {(ward.pk, kind.pk, 2024): (10, 6, 5, 4), (ward.pk, kind.pk, 2025): (12, 1, 0, 0)}
    assert _store(second) == 3, "one changed, one new, one gone"
    assert _stored() == second
    assert TitleFigure.objects.get(branch=ward, year=2024).computed_at > before[ward.pk]
    assert _store(second) == 0, "nothing changed, nothing written"


def test_more_rows_than_one_statement_takes_are_all_stored_and_updated(tree, monkeypatch, django_assert_num_queries):
    """The upsert sends its rows in pages (khuyenhoc.bulk.UPSERT_ROWS): with pages of two, five
    rows take three statements, and a second store updates every page's rows."""
    monkeypatch.setattr("khuyenhoc.bulk.UPSERT_ROWS", 2)
    kind = TitleKind.objects.create(code="thu-trang", name="Thử trang", subject_type="household")
    ward = tree.phuc_xa
    first = {(ward.pk, kind.pk, year): (year - 2000, 1, 1, 1) for year in range(2021, 2026)}
    with django_assert_num_queries(4):  # the stored rows read, then three pages
        assert _store(first) == 5
    assert _stored() == first
    second = {key: (figures[0] + 100, 2, 2, 2) for key, figures in first.items()}
    assert _store(second) == 5
    assert _stored() == second
