"""The list pages' rows computed once in Python (issue 16: CPU per request): the same words,
links and figures as the template tags wrote, and a reorganised unit's money lists seeing
the same branches by path prefixes as by the access module's recursive query."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from associations.access import visible_branches_sql
from associations.models import Branch, StaffRole
from funds.forms import DonationFilterForm
from funds.services import donation_void
from funds.visibility import visible_branch_ids
from reorganisation import services as reorganisation_services
from tests.factories import MemberFactory, StaffProfileFactory, donate
from tests.reorganisation.test_apply import _create, _decide_district, filled  # noqa: F401 — its fixture

pytestmark = pytest.mark.django_db


def _normalised(html: str) -> str:
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"\s*(<|>)\s*", r"\1", html)
    # Attributes in any order: sorted within each tag.
    return re.sub(
        r"<(\w+)\s([^<>]*)>",
        lambda tag: "<{} {}>".format(tag.group(1), " ".join(sorted(re.findall(r'[\w:-]+(?:="[^"]*")?', tag.group(2))))),
        html,
    )


def test_the_filter_fields_read_exactly_as_crispy_forms_wrote_them_errors_included(cast, funds):
    form = DonationFilterForm({"start": "31/02/2025", "own": "on", "q": "Ấn", "method": "cash"}, user=cast.city_leader)
    assert not form.is_valid()
    crispy = Template("{% load crispy_forms_tags %}{{ field|as_crispy_field }}")
    ours = Template("{% load forms %}{{ field|filter_field }}")
    for field in form:
        expected = _normalised(crispy.render(Context({"field": field})))
        assert _normalised(ours.render(Context({"field": field}))) == expected, field.name
    page = _normalised(ours.render(Context({"field": form["start"]})))
    assert "is-invalid" in page and 'class="invalid-feedback"' in page


def test_a_funds_ledger_shows_each_movement_with_its_record_link_amount_and_author(cast, funds, client_for):
    kept = donate(cast.manager, funds.phuc_xa, 1_500_000, donor_name="Lê Thị Bình")
    voided = donate(cast.manager, funds.phuc_xa, 200_000, donor_name="Phạm Văn Cường")
    donation_void(actor=cast.manager, donation=voided, reason="Ghi nhầm số tiền")

    response = client_for(cast.city_leader).get(reverse("funds:fund_detail", kwargs={"pk": funds.phuc_xa.pk}))
    page = response.content.decode()

    rows = re.findall(r'<tr[^>]*data-testid="ledger-row">(.*?)</tr>', page, re.S)
    assert len(rows) == 3
    reversal, second, first = rows
    url = reverse("funds:donation_detail", kwargs={"pk": kept.pk})
    assert f'<a href="{url}">' in first and "Lê Thị Bình" in first and kept.receipt_label in first
    assert "+1.500.000" in first and "text-success" in first
    assert "-200.000" in reversal and "text-danger" in reversal and "Ghi nhầm số tiền" in reversal
    assert "Phạm Văn Cường" in second and "Ghi nhầm số tiền" not in second
    author = f"{cast.manager.last_name} {cast.manager.first_name}".strip() or cast.manager.username
    assert author in first
    assert [entry.donation_id for entry in response.context["page"]] == [voided.pk, voided.pk, kept.pk]


def test_the_member_list_rows_link_each_member_and_mask_the_birth_date_for_a_leader(cast, tree, client_for):
    member = MemberFactory(branch=tree.phuc_xa, full_name="Đỗ Minh Châu", date_of_birth="1985-03-25")
    url = reverse("associations:member_detail", kwargs={"pk": member.pk})
    for user, shown in ((cast.commune_clerk, "25/03/1985"), (cast.district_leader, "••/••/1985")):
        page = client_for(user).get(reverse("associations:member_list"), {"q": "Châu"}).content.decode()
        row = re.search(r"<tr>\s*<td><input[^>]*name=\"ids\"[^>]*>.*?</tr>", page, re.S).group(0)
        assert f'value="{member.pk}"' in row and f'<a href="{url}">Đỗ Minh Châu</a>' in row
        assert shown in row, user


def test_a_reorganised_units_money_lists_see_the_same_branches_as_the_recursive_query(cast, tree, funds, filled):  # noqa: F811
    reorganisation = _create(cast)
    _decide_district(cast, tree, reorganisation)
    reorganisation_services.reorganisation_apply(actor=cast.admin, reorganisation=reorganisation)
    ward = Branch.objects.get(code="00004", founded_on=reorganisation.effective_on)
    leader = StaffProfileFactory(branch=ward, role=StaffRole.LEADER).user

    inside, outside = visible_branch_ids(leader)

    expected = set(Branch.objects.filter(pk__in=visible_branches_sql(ward.path)).values_list("pk", flat=True))
    assert outside and set(inside) | set(outside) == expected
    assert set(inside) == set(Branch.objects.filter(path__startswith=ward.path).values_list("pk", flat=True))
