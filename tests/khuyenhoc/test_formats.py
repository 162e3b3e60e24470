import datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, translation


class DateForm(forms.Form):
    day = forms.DateField()


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


def test_a_date_typed_day_first_means_that_day():
    form = DateForm({"day": "12/01/2025"})
    assert form.is_valid()
    assert form.cleaned_data["day"] == datetime.date(2025, 1, 12)


def test_a_month_first_date_is_refused_rather_than_swapped():
    form = DateForm({"day": "01/13/2025"})
    assert not form.is_valid()
    assert "day" in form.errors


def test_the_iso_date_sent_by_a_date_picker_is_accepted():
    form = DateForm({"day": "2025-01-12"})
    assert form.is_valid()
    assert form.cleaned_data["day"] == datetime.date(2025, 1, 12)


def test_dates_are_shown_day_first():
    rendered = Template("{{ day|date:'SHORT_DATE_FORMAT' }} {{ day }}").render(
        Context({"day": datetime.date(2025, 1, 12)})
    )
    assert rendered == "12/01/2025 12/01/2025"


def test_dates_stay_day_first_in_english_too():
    with translation.override("en"):
        form = DateForm({"day": "12/01/2025"})
        assert form.is_valid()
        assert form.cleaned_data["day"] == datetime.date(2025, 1, 12)
        assert formats.date_format(datetime.date(2025, 1, 12), "SHORT_DATE_FORMAT") == "12/01/2025"


def test_numbers_are_grouped_with_dots():
    assert formats.number_format(1234567890, force_grouping=True) == "1.234.567.890"
    assert Template("{{ n }}").render(Context({"n": 1234567890})) == "1.234.567.890"


def test_decimals_use_a_comma():
    assert formats.number_format(86.4, decimal_pos=1) == "86,4"
