"""Demo set-up for `make run`: Hanoi's map, and one account per role with a published password."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

DEMO_PASSWORD = "khuyenhoc-demo"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    branch: str


# (username, full name, role, GSO code of the branch in the 2017 map; None = superuser)
_ACCOUNTS = [
    ("admin", "Quản trị Hệ thống", None, None),
    ("lanhdao.hanoi", "Nguyễn Thị Minh", "leader", "01"),
    ("quanly.hanoi", "Trần Quốc Bảo", "manager", "01"),
    ("lanhdao.badinh", "Lê Văn Hùng", "leader", "001"),
    ("canbo.phucxa", "Phạm Thị Lan", "clerk", "00001"),
]


@transaction.atomic
def demo_setup() -> list[DemoAccount]:
    from associations.maps import hanoi_map_load
    from associations.models import Branch, MapVintage, StaffProfile, StaffRole

    for vintage in (MapVintage.V2017, MapVintage.V2025):
        hanoi_map_load(vintage=vintage)

    User = get_user_model()
    accounts = []
    for username, full_name, role, code in _ACCOUNTS:
        last_name, _sep, first_name = full_name.partition(" ")
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "last_name": last_name, "email": f"{username}@example.vn"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        if role is None:
            user.is_staff = user.is_superuser = True
            user.save()
            accounts.append(DemoAccount(username, "administrator", "(all branches)"))
            continue
        user.save()
        branch = Branch.objects.get(vintage=MapVintage.V2017, code=code)
        StaffProfile.objects.update_or_create(user=user, defaults={"branch": branch, "role": role})
        accounts.append(DemoAccount(username, str(StaffRole(role).label), branch.name))
    return accounts
