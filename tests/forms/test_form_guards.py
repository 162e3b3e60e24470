"""Forms that cannot save twice by accident, that say what is wrong themselves, and that take
dates and citizen IDs as clerks type them (issue 15, item 2)."""

import datetime

import pytest
from django.urls import reverse

from associations.forms import MemberForm
from associations.models import Member, MemberCategory
from funds.models import Donation
from khuyenhoc.form_tokens import MAX_TOKENS, SESSION_KEY
from khuyenhoc.widgets import DayFirstDateInput
from learning.models import Household
from tests.factories import DAY, MemberFactory

pytestmark = pytest.mark.django_db

ADD = reverse("associations:member_create")
TOKEN = "tok-abcdefghijklmnop"


def member_post(branch, **overrides):
    data = {
        "form_token": TOKEN,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "12/01/1985",
        "gender": "male",
        "citizen_id": "",
        "category": MemberCategory.CIVIL_SERVANT,
        "branch": branch.pk,
        "joined_on": "01/03/2018",
    }
    data.update(overrides)
    return data


def test_the_member_form_carries_a_fresh_one_time_token(client_for, cast):
    client = client_for(cast.commune_clerk)
    first = client.get(ADD).content.decode()
    second = client.get(ADD).content.decode()
    token = first.split('name="form_token" value="')[1].split('"')[0]
    assert len(token) >= 20
    assert token not in second


def test_a_member_form_sent_again_says_it_was_saved_links_to_the_member_and_adds_no_one(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    first = client.post(ADD, member_post(tree.phuc_xa))
    member = Member.objects.get()
    assert first.status_code == 302

    again = client.post(ADD, member_post(tree.phuc_xa))

    assert again.status_code == 409
    page = again.content.decode()
    assert "Biểu mẫu này đã được lưu" in page or "This form was already saved" in page
    assert reverse("associations:member_detail", args=[member.pk]) in page
    assert Member.objects.count() == 1


def test_a_form_that_came_back_with_errors_keeps_its_token_and_saves_once_corrected(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    wrong = client.post(ADD, member_post(tree.phuc_xa, joined_on=""))
    assert wrong.status_code == 200
    assert f'value="{TOKEN}"' in wrong.content.decode()
    assert client.post(ADD, member_post(tree.phuc_xa)).status_code == 302
    assert Member.objects.count() == 1


def test_the_session_keeps_only_the_latest_tokens(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    for number in range(MAX_TOKENS + 2):
        client.post(ADD, member_post(tree.phuc_xa, form_token=f"t{number}", full_name=f"Người {number}"))
    assert len(client.session[SESSION_KEY]) == MAX_TOKENS
    assert "t0" not in client.session[SESSION_KEY]


def test_a_donation_sent_again_is_not_recorded_twice(client_for, cast, funds):
    client = client_for(cast.commune_clerk)
    data = {
        "form_token": TOKEN,
        "fund": funds.phuc_xa.pk,
        "donor_name": "Nguyễn Văn Ấn",
        "donor_kind": "individual",
        "amount": "1.500.000",
        "received_on": DAY.strftime("%d/%m/%Y"),
        "method": "cash",
    }
    assert client.post(reverse("funds:donation_create"), data).status_code == 302
    again = client.post(reverse("funds:donation_create"), data)
    assert again.status_code == 409
    assert reverse("funds:donation_detail", args=[Donation.objects.get().pk]) in again.content.decode()


def test_a_person_like_a_registered_member_is_added_only_after_the_clerk_confirms(client_for, cast, tree):
    existing = MemberFactory(
        full_name="Nguyễn Văn An", date_of_birth=datetime.date(1985, 1, 12), branch=tree.phuc_xa, citizen_id=None
    )
    client = client_for(cast.commune_clerk)

    # Typed without accents and in capitals: still the same name.
    warned = client.post(ADD, member_post(tree.phuc_xa, full_name="NGUYEN VAN AN"))
    assert warned.status_code == 200
    page = warned.content.decode()
    assert 'data-testid="look-alikes"' in page
    assert reverse("associations:member_detail", args=[existing.pk]) in page
    assert Member.objects.count() == 1

    confirmed = client.post(ADD, member_post(tree.phuc_xa, full_name="NGUYEN VAN AN", confirm_look_alike="1"))
    assert confirmed.status_code == 302
    assert Member.objects.count() == 2


def test_no_warning_when_the_date_of_birth_or_the_branch_differs(client_for, cast, tree):
    MemberFactory(full_name="Nguyễn Văn An", date_of_birth=datetime.date(1985, 1, 12), branch=tree.truc_bach)
    MemberFactory(full_name="Nguyễn Văn An", date_of_birth=datetime.date(1990, 1, 12), branch=tree.phuc_xa)
    response = client_for(cast.manager).post(ADD, member_post(tree.phuc_xa))
    assert response.status_code == 302


def test_a_thirteenth_digit_is_refused_in_vietnamese_not_cut_off(client_for, cast, tree):
    form_html = client_for(cast.commune_clerk).get(ADD).content.decode()
    citizen_input = form_html.split('name="citizen_id"')[1].split(">")[0]
    assert "maxlength" not in citizen_input
    response = client_for(cast.commune_clerk).post(ADD, member_post(tree.phuc_xa, citizen_id="0010850123456"))
    assert response.status_code == 200
    assert "Số căn cước công dân có đúng 12 chữ số." in response.content.decode()
    assert not Member.objects.exists()


def test_spaces_typed_inside_a_citizen_id_are_ignored(cast, tree):
    form = MemberForm(member_post(tree.phuc_xa, citizen_id="001 085 012 345"), user=cast.commune_clerk)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["citizen_id"] == "001085012345"


def test_the_server_names_every_error_in_a_summary_at_the_top_and_the_browser_stays_silent(client_for, cast, tree):
    response = client_for(cast.commune_clerk).post(ADD, member_post(tree.phuc_xa, full_name="", joined_on="x"))
    page = response.content.decode()
    summary = page.split('data-testid="form-errors"')[1].split("</div>")[0]
    assert 'href="#id_full_name"' in summary and 'href="#id_joined_on"' in summary
    assert page.index('data-testid="form-errors"') < page.index('name="full_name"')
    member_form = next(tag for tag in page.split("<form")[1:] if "form_token" in tag)
    assert "novalidate" in member_form.split(">")[0]


@pytest.mark.parametrize("typed", ["01012025", "01.01.2025", "01-01-2025", "01/01/2025", " 01012025 "])
def test_a_date_is_read_day_first_however_a_phone_keypad_types_it(cast, tree, typed):
    form = MemberForm(member_post(tree.phuc_xa, joined_on=typed), user=cast.commune_clerk)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["joined_on"] == datetime.date(2025, 1, 1)


def test_seven_digits_are_not_guessed_into_a_date(cast, tree):
    form = MemberForm(member_post(tree.phuc_xa, joined_on="1012025"), user=cast.commune_clerk)
    assert not form.is_valid()
    assert "joined_on" in form.errors


def test_date_inputs_open_the_number_pad():
    html = DayFirstDateInput().render("day", datetime.date(2025, 1, 1))
    assert 'inputmode="numeric"' in html and 'value="01/01/2025"' in html


def test_a_household_form_sent_again_creates_one_household(client_for, cast, tree):
    client = client_for(cast.commune_clerk)
    data = {
        "form_token": TOKEN,
        "head_name": "Phạm Văn Hộ",
        "address": "Số 2 Phúc Xá",
        "branch": tree.phuc_xa.pk,
        "people": 4,
        "working_people": 2,
    }
    first = client.post(reverse("learning:household_create"), data)
    assert first.status_code == 302, first.content.decode()[:3000]
    again = client.post(reverse("learning:household_create"), data)
    assert again.status_code == 409
    assert Household.objects.count() == 1
