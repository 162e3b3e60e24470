import pytest

from funds.words import amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (1_500_000, "Một triệu năm trăm nghìn đồng"),
        (105, "Một trăm linh năm đồng"),
        (21, "Hai mươi mốt đồng"),
        (15, "Mười lăm đồng"),
        (1_000_050, "Một triệu không trăm năm mươi đồng"),
        (2_025_000_000, "Hai tỷ không trăm hai mươi lăm triệu đồng"),
    ],
)
def test_amounts_are_written_in_vietnamese_words_as_receipts_write_them(amount, words):
    assert amount_in_words(amount) == words
