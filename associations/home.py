"""What the home page gathers for its user: what needs their attention and their recent records.

Apps above the registry add what needs attention in their domain (an import with errors, a
fund near zero) with `attention_register` in their AppConfig.ready(); this module names none
of them. Each check is set-based: a fixed number of queries whatever the data's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from associations.audit_display import entries_readable
from associations.models import AuditEntry

RECENT = 8  # how many of the user's own latest records the home page lists


@dataclass(frozen=True)
class AttentionItem:
    text: str
    url: str


@dataclass(frozen=True)
class Attention:
    """One kind of thing that needs the user's attention: a heading, how many, a few of them
    and the list that shows them all."""

    label: Any  # lazy translated text
    count: int
    url: str
    items: list[AttentionItem] = field(default_factory=list)


AttentionCheck = Callable[[Any], Attention | None]
_CHECKS: list[AttentionCheck] = []


def attention_register(check: AttentionCheck) -> None:
    """`check(user)` answers an Attention for the user's subtree, or None when nothing needs it."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def attention_for(user) -> list[Attention]:
    return [found for check in _CHECKS if (found := check(user)) is not None and found.count]


def recent_records(user, *, limit: int = RECENT) -> list[AuditEntry]:
    """The user's own latest changes (a member added, a donation recorded…), in plain words."""
    entries = AuditEntry.objects.filter(actor=user).select_related("branch").order_by("-at", "-id")[:limit]
    return entries_readable(entries, user=user)
