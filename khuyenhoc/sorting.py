"""Sortable list columns: a whitelist of sort keys per list, a stable tie-breaker on id.

A list declares `{key: field}` (e.g. {"amount": "amount", "donor": "donor_name"}); `?sort=key`
sorts ascending, `?sort=-key` descending; any other value falls back to the list's default.
Text fields named in `names` sort in Vietnamese alphabetical order (khuyenhoc.db).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.db.models import F

from khuyenhoc.db import vietnamese_order


def sort_key_allowed(sorts: Mapping[str, str], key: str | None) -> bool:
    return bool(key) and key.lstrip("-") in sorts and key.count("-") <= 1 and not key.endswith("-")


def sorted_by(queryset, sorts: Mapping[str, str], key: str | None, default: str, *, names: Collection[str] = ()):
    """`queryset` ordered by the whitelisted `key` (or `default`), then by id in the same direction."""
    if not sort_key_allowed(sorts, key):
        key = default
    descending = key.startswith("-")
    field = sorts[key.lstrip("-")]
    plain = F(field).desc() if descending else F(field).asc()
    primary = vietnamese_order(field, descending=descending) if field in names else plain
    return queryset.order_by(primary, "-id" if descending else "id")
