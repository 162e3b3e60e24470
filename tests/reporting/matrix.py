"""The reports' objects planted for the access matrix (tests/trust/test_access_matrix.py): a
year period, a draft report in Phúc Xá and in Hàng Bạc (each with the branch's token in its
text field), the shipped year form (frozen by those reports) and one of its fields."""

from __future__ import annotations

from types import SimpleNamespace

from reporting import selectors, services
from reporting.models import PeriodKind


def plant_reports(tree, cast, *, token_in: str, token_out: str) -> dict[str, dict[str, SimpleNamespace]]:
    period = services.period_create(actor=cast.admin, kind=PeriodKind.YEAR, year=2020)
    form = selectors.form_current(PeriodKind.YEAR)
    field = form.fields.order_by("id").first()
    objects: dict[str, dict[str, SimpleNamespace]] = {
        "report_period": {"any": SimpleNamespace(obj=period, branch=None, kwargs={"period_pk": period.pk}, owner=None)},
        "report_form": {"any": SimpleNamespace(obj=form, branch=None, kwargs={"pk": form.pk}, owner=None)},
        "report_field": {"any": SimpleNamespace(obj=field, branch=None, kwargs={"pk": field.pk}, owner=None)},
        "report_section": {
            "any": SimpleNamespace(obj=field.section, branch=None, kwargs={"pk": field.section_id}, owner=None)
        },
    }
    for where, branch, clerk, token in (
        ("in", tree.phuc_xa, cast.commune_clerk, token_in),
        ("out", tree.hang_bac, cast.sibling_clerk, token_out),
    ):
        report = services.report_values_save(
            actor=clerk, period=period, branch=branch, values={"nhan-xet": f"Nhận xét {token}"}
        )
        objects.setdefault("report", {})[where] = SimpleNamespace(
            obj=report, branch=branch, kwargs={"pk": report.pk}, owner=None
        )
        objects.setdefault("report_branch", {})[where] = SimpleNamespace(
            obj=branch, branch=branch, kwargs={"period_pk": period.pk, "branch_id": branch.pk}, owner=None
        )
    return objects
