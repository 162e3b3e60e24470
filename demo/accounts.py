"""The demo accounts and their published password.

Kept apart from `demo.services` so that it imports without Django set up: the load test
(bench/locustfile.py) signs in with this password from its own process.
"""

DEMO_PASSWORD = "khuyenhoc-demo"

# (username, full name, role, GSO code of the branch in the 2017 map; None = superuser)
DEMO_ACCOUNTS = [
    ("admin", "Quản trị Hệ thống", None, None),
    ("lanhdao.hanoi", "Nguyễn Thị Minh", "leader", "01"),
    ("quanly.hanoi", "Trần Quốc Bảo", "manager", "01"),
    ("lanhdao.badinh", "Lê Văn Hùng", "leader", "001"),
    ("canbo.phucxa", "Phạm Thị Lan", "clerk", "00001"),
]
