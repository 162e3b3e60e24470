"""The demo accounts and their published password.

Kept apart from `demo.services` so that it imports without Django set up: the load test
(bench/locustfile.py) signs in with this password from its own process.
"""

from typing import NamedTuple

DEMO_PASSWORD = "khuyenhoc-demo"


class DemoAccountSpec(NamedTuple):
    username: str
    full_name: str
    role: str | None  # None: superuser
    # Where the account is on today's map: (GSO code, the day its branch was founded, ISO or None).
    branch: tuple[str, str | None] | None
    # The branch of the 2017 map it starts on before Hanoi's rounds are applied (GSO code), so
    # that the demo's decisions (demo/data/hanoi-rounds-decisions.csv) move it; None: created
    # on today's map.
    starts_on_2017: str | None = None


NEW_MAP = "2025-07-01"

DEMO_ACCOUNTS = [
    DemoAccountSpec("admin", "Quản trị Hệ thống", None, None),
    DemoAccountSpec("lanhdao.hanoi", "Nguyễn Thị Minh", "leader", ("01", None)),
    DemoAccountSpec("quanly.hanoi", "Trần Quốc Bảo", "manager", ("01", None)),
    # The clerk of the new Phường Ba Đình (founded 01/07/2025): her ward and, read-only, the
    # history of the wards it came from.
    DemoAccountSpec("canbo.badinh", "Đỗ Thị Hương", "clerk", ("00004", NEW_MAP)),
    # A clerk of the old Phường Phúc Xá: the merge of 01/07/2025 (whole, into Phường Hồng Hà)
    # moved her account; she reads Phúc Xá's history read-only.
    DemoAccountSpec("canbo.phucxa", "Phạm Thị Lan", "clerk", ("00097", NEW_MAP), "00001"),
    # The leaders of two dissolved districts: one moved to the new ward (the demo's decision for
    # Quận Ba Đình), one made a read-only city account (the decision for Quận Hoàn Kiếm).
    DemoAccountSpec("lanhdao.badinh", "Lê Văn Hùng", "leader", ("00004", NEW_MAP), "001"),
    DemoAccountSpec("lanhdao.hoankiem", "Vũ Thị Thu", "leader", ("01", None), "002"),
]
