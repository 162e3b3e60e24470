"""The funds' part of the home page: open funds whose balance is near zero."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.home import Attention, AttentionItem
from funds.models import Fund
from khuyenhoc.money import format_money

# Below this balance a fund can no longer pay an ordinary award (a few hundred thousand to a
# few million đồng): worth a look before the next round.
LOW_BALANCE = 1_000_000
SHOWN = 5


def funds_near_zero(user) -> Attention | None:
    low = Fund.objects.visible_to(user).not_closed_on(timezone.localdate()).filter(balance__lt=LOW_BALANCE)
    count = low.count()
    if not count:
        return None
    items = [
        AttentionItem(f"{name} · {format_money(balance)}", reverse("funds:fund_detail", args=[pk]))
        for pk, name, balance in low.order_by("balance", "name").values_list("pk", "name", "balance")[:SHOWN]
    ]
    return Attention(label=_("Funds near zero"), count=count, url=reverse("funds:fund_list"), items=items)
