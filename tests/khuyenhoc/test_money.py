import pytest
from django.template import Context, Template
from django.utils import translation

from khuyenhoc.money import format_money, format_money_short


def render(template: str, **context) -> str:
    return Template("{% load money %}" + template).render(Context(context))


def test_money_is_grouped_with_dots_and_the_dong_sign():
    assert render("{{ amount|money }}", amount=67_000_000_000) == "67.000.000.000 ₫"


def test_small_and_zero_amounts():
    assert format_money(0) == "0 ₫"
    assert format_money(500) == "500 ₫"
    assert format_money(None) == ""


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (67_000_000_000, "67 tỷ đồng"),
        (86_400_000_000, "86,4 tỷ đồng"),
        (86_449_999_999, "86,4 tỷ đồng"),
        (86_450_000_000, "86,5 tỷ đồng"),
        (1_234_000_000_000, "1.234 tỷ đồng"),
        (350_000_000, "350 triệu đồng"),
        (1_500_000, "1,5 triệu đồng"),
        (12_000, "12 nghìn đồng"),
        (500, "500 đồng"),
    ],
)
def test_summaries_round_to_one_decimal_in_words(amount, expected):
    with translation.override("vi"):
        assert render("{{ amount|money_short }}", amount=amount) == expected


def test_summaries_in_english():
    with translation.override("en"):
        assert format_money_short(67_000_000_000) == "67 billion đồng"


def test_negative_amounts_keep_their_sign():
    with translation.override("vi"):
        assert format_money(-1_500_000) == "-1.500.000 ₫"
        assert format_money_short(-86_400_000_000) == "-86,4 tỷ đồng"
