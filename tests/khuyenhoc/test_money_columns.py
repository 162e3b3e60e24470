"""A column of amounts in one unit (issue 15 item 9): never "561 triệu đồng" above "1,1 tỷ đồng"."""

import pytest
from django.template import Context, Template
from django.utils import translation

from khuyenhoc.money import BILLION, MILLION, money_unit


def test_a_column_whose_largest_amount_is_over_a_billion_is_in_billions_throughout():
    column = [561_000_000, 1_100_000_000, 35_000_000]
    unit = money_unit(column)
    assert unit.size == BILLION
    assert [unit.format(amount) for amount in column] == ["0,56", "1,10", "0,04"]
    with translation.override("en"):
        assert unit.name == "billion đồng"


def test_a_column_of_millions_keeps_about_three_significant_digits_with_a_decimal_comma():
    assert [money_unit([56_149_000]).format(v) for v in (56_149_000, 8_000_000)] == ["56,1", "8,0"]
    unit = money_unit([561_234_000, 2_000_000])
    assert unit.size == MILLION
    assert [unit.format(v) for v in (561_234_000, 2_000_000)] == ["561", "2"]
    assert money_unit([1_234_567_000_000]).format(1_234_567_000_000) == "1.235"


def test_an_amount_too_small_for_the_columns_decimals_is_not_shown_as_zero():
    unit = money_unit([2_000_000_000, 3_000])
    assert unit.format(3_000) == "< 0,01"
    assert unit.format(0) == "0,00"
    assert unit.format(None) == ""


def test_small_amounts_stay_in_dong_and_negative_ones_keep_their_sign():
    assert money_unit([500, 20]).format(500) == "500"
    assert money_unit([-86_400_000_000]).format(-86_400_000_000) == "-86,4"
    assert money_unit([]).size == 1


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_template_filters_format_a_column_in_its_unit(language):
    template = Template(
        "{% load money %}{% with unit=amounts|column_unit %}"
        "{% for a in amounts %}{{ a|in_unit:unit }};{% endfor %}{% endwith %}"
    )
    with translation.override(language):
        text = template.render(Context({"amounts": [561_000_000, 1_100_000_000]}))
    assert text == "0,56;1,10;"
