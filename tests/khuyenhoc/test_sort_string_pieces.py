"""`vietnamese_sort_string` built from each character's cached pieces gives exactly the string of
the reference (the sort key joined letter by letter), whatever the text."""

import random
import unicodedata

from khuyenhoc.text import _sort_string_of_key, vietnamese_sort_string

# Vietnamese letters (composed), capitals, đ, digits, punctuation, spaces, the tone and letter
# marks typed apart, foreign marks, and characters far from Latin (CJK, an emoji, the last
# character before the surrogates, a ligature, ß, dotted İ, the ångström sign, Hangul).
CHARACTERS = [
    *"aăâbcdđeêghiklmnoôơpqrstuưvxyfjwzAĂÂĐÊÔƠƯZ0129 -.,'\"_()\t",
    "\u0300",
    "\u0301",
    "\u0303",
    "\u0309",
    "\u0323",
    "\u0302",
    "\u0306",
    "\u031b",
    "\u0308",
    "\u0345",
    "é",
    "ễ",
    "Ễ",
    "ự",
    "中",
    "\U0001f600",
    "\ud7ff",
    "\ufb01",
    "ß",
    "\u0130",
    "\u212b",
    "\uac00",
]


def test_names_give_the_reference_string_composed_or_decomposed():
    for name in ["Nguyễn Văn An", "ĐỖ THỊ ĐÀO", "Phạm", "Phan", "Lê-Thị Ánh (2)", "", "Ưng Ơn Ôn"]:
        for form in ("NFC", "NFD"):
            text = unicodedata.normalize(form, name)
            assert vietnamese_sort_string(text) == _sort_string_of_key(text)


def test_random_texts_give_the_reference_string():
    rng = random.Random(16)
    for _ in range(20_000):
        text = "".join(rng.choice(CHARACTERS) for _ in range(rng.randint(0, 10)))
        for variant in (text, unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)):
            assert vietnamese_sort_string.__wrapped__(variant) == _sort_string_of_key(variant), repr(variant)


def test_a_missing_name_gives_the_empty_key():
    assert vietnamese_sort_string(None) == vietnamese_sort_string("") == "!!"
