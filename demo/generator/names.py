"""Synthetic Vietnamese names, addresses and organisation names.

Every name is put together from common name parts; no list of real people is used. The
portal shows a banner on every page while DEMO_BANNER is on, saying the data is generated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from khuyenhoc.text import search_key, vietnamese_sort_string

FAMILY_NAMES = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Phan", 4),
    ("Vũ", 4),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
    ("Lý", 1),
    ("Đào", 2),
    ("Đinh", 2),
    ("Trịnh", 1),
    ("Tạ", 1),
]
MALE_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Mạnh", "Xuân", "Thanh", "Tuấn", "Đình", "Ngọc"]
FEMALE_MIDDLE = ["Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Minh", "Thùy", "Phương", "Khánh", "Mai", "Bích", "Hải"]
MALE_GIVEN = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hùng", "Huy", "Khang", "Khoa",
    "Kiên", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành",
    "Toàn", "Trung", "Tú", "Tuấn", "Việt", "Vinh",
]  # fmt: skip
FEMALE_GIVEN = [
    "Anh", "Châu", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hạnh", "Hiền", "Hoa", "Hương", "Huyền",
    "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Tâm",
    "Thảo", "Trang", "Uyên", "Vân", "Yến", "Xuân",
]  # fmt: skip
ENTERPRISE_WORDS = [
    "An Phát", "Bình Minh", "Đại Việt", "Hòa Bình", "Hồng Hà", "Kim Long", "Minh Anh", "Nam Sơn",
    "Phú Thịnh", "Sông Đà", "Tân Tiến", "Thăng Long", "Thành Công", "Trường Sơn", "Việt Hưng", "Xuân Mai",
]  # fmt: skip
ENTERPRISE_FORMS = ["Công ty TNHH", "Công ty cổ phần", "Hợp tác xã", "Công ty TNHH MTV"]
ENTERPRISE_TRADES = ["Xây dựng", "Thương mại", "Dệt may", "Cơ khí", "Dịch vụ", "Thực phẩm", "Vận tải", "Điện tử"]
AGENCY_NAMES = [
    "Ủy ban nhân dân",
    "Đảng ủy",
    "Công an",
    "Phòng Văn hóa - Thông tin",
    "Phòng Tài chính - Kế hoạch",
    "Phòng Tư pháp",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Nội vụ",
    "Chi cục Thuế",
    "Kho bạc Nhà nước",
]
PUBLIC_SERVICE_NAMES = [
    "Trạm Y tế",
    "Trung tâm Văn hóa - Thể thao",
    "Ban Quản lý chợ",
    "Trung tâm Y tế",
    "Ban Quản lý dự án",
    "Nhà văn hóa",
    "Bệnh viện đa khoa",
    "Trung tâm Giáo dục nghề nghiệp",
]
ARMED_FORCES_NAMES = ["Ban Chỉ huy quân sự", "Đồn Công an", "Tiểu đoàn", "Đại đội", "Trung đoàn", "Lữ đoàn"]
SCHOOL_NAMES = ["Trường Mầm non", "Trường Tiểu học", "Trường THCS", "Trường THPT"]
OTHER_NAMES = ["Hội Cựu chiến binh", "Hội Người cao tuổi", "Hợp tác xã nông nghiệp", "Câu lạc bộ dưỡng sinh"]
CLAN_NAMES = [name for name, _weight in FAMILY_NAMES]


@dataclass(frozen=True)
class Person:
    name: str
    key: str  # search_key(name), computed once
    male: bool
    sort: str  # vietnamese_sort_string(name), computed once (Member.name_sort)


def person_pool(rng: random.Random, size: int = 6000) -> list[Person]:
    """A fixed pool of distinct full names, weighted like Vietnamese family names."""
    families = [name for name, weight in FAMILY_NAMES for _ in range(weight)]
    seen: set[str] = set()
    pool: list[Person] = []
    while len(pool) < size:
        male = rng.random() < 0.5
        middle = rng.choice(MALE_MIDDLE if male else FEMALE_MIDDLE)
        given = rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)
        name = f"{rng.choice(families)} {middle} {given}"
        if name in seen:
            if len(seen) > size * 0.9 and rng.random() < 0.5:
                continue
            name = f"{name} {rng.choice(MALE_GIVEN if male else FEMALE_GIVEN)}"
            if name in seen:
                continue
        seen.add(name)
        pool.append(Person(name=name, key=search_key(name), male=male, sort=vietnamese_sort_string(name)))
    return pool


def short_place(name: str) -> str:
    """ "Phường Phúc Xá" → "Phúc Xá": the place name without its unit type."""
    for prefix in ("Thành phố ", "Thị xã ", "Thị trấn ", "Quận ", "Huyện ", "Phường ", "Xã "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def address(rng: random.Random) -> str:
    """A generic address that points nowhere: a house number and a residential group."""
    return f"Số {rng.randint(1, 199)}, tổ dân phố {rng.randint(1, 30)}"
