import unicodedata

from khuyenhoc.text import search_key, vietnamese_sort_key


def test_search_keys_drop_diacritics_whatever_the_normalisation():
    assert search_key("Nguyễn Văn An") == "nguyen van an"
    assert search_key(unicodedata.normalize("NFD", "Nguyễn Văn An")) == "nguyen van an"
    assert search_key("  ĐỖ   Thị  Đào ") == "do thi dao"


def test_python_side_sorting_follows_the_vietnamese_alphabet():
    names = ["Ưng", "Uyên", "Ơn", "Oanh", "Đức", "Dung", "Bình", "Ân", "Ăn", "An", "Ôn"]
    assert sorted(names, key=vietnamese_sort_key) == [
        "An",
        "Ăn",
        "Ân",
        "Bình",
        "Dung",
        "Đức",
        "Oanh",
        "Ôn",
        "Ơn",
        "Uyên",
        "Ưng",
    ]


def test_tones_sort_after_letters():
    assert sorted(["Hạ", "Há", "Hà", "Ha", "Hả", "Hã"], key=vietnamese_sort_key) == ["Ha", "Hà", "Hả", "Hã", "Há", "Hạ"]
    assert sorted(["Huyện Đan Phượng", "Huyện Thạch Thất", "Huyện Ba Vì"], key=vietnamese_sort_key) == [
        "Huyện Ba Vì",
        "Huyện Đan Phượng",
        "Huyện Thạch Thất",
    ]
