"""Audit entries read by people: a record's change history and the audit log in plain words.

An entry's `changes` are JSON written when the change was made: keys are the fields' labels in
the language of that moment (or a plain key such as "rows"), values are text, numbers, ISO
dates, booleans or, for a few batch writes, the id of a related record. This module turns a
page of entries into lines a clerk reads: the label in the reader's language, dates as
dd/mm/yyyy, Có/Không, money with '.' grouping, years as written, "—" for nothing, and related
records by name with a link. Ids are resolved with one query per related model, whatever the
number of entries.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from associations import privacy
from associations.models import AuditEntry
from khuyenhoc.money import format_money, group_digits

EMPTY = "—"

# Where a record of each kind is shown; the audit log and related values link there.
DETAIL_URLS = {
    "associations.branch": "associations:branch_detail",
    "associations.organization": "associations:organization_detail",
    "associations.member": "associations:member_detail",
    "funds.fund": "funds:fund_detail",
    "funds.donation": "funds:donation_detail",
    "funds.transfer": "funds:transfer_detail",
    "scholarships.scholarshipround": "scholarships:round_detail",
    "scholarships.award": "scholarships:award_detail",
    "plans.plan": "plans:plan_detail",
}

# Plain keys that some entries carry beside field labels (an import's own entry).
PLAIN_KEYS = {
    "file": gettext_lazy("file"),
    "rows": gettext_lazy("rows"),
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
    "errors": gettext_lazy("errors"),
    "reason": gettext_lazy("reason"),
}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
NAME_FIELDS = ("name", "full_name")


@dataclass
class Line:
    label: str
    before: str
    after: str
    is_change: bool  # a [before, after] pair, shown "before → after"


@cache
def _fields_by_label(model: type[models.Model]) -> dict[str, models.Field]:
    """Every way an entry may name a field of `model`: its name and its label in either language."""
    result = {}
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        result[field.name] = field
        for language in ("en", "vi"):
            with translation.override(language):
                result[str(field.verbose_name)] = field
    return result


def _label(key: str, field: models.Field | None) -> str:
    if field is not None:
        return str(field.verbose_name)
    if key in PLAIN_KEYS:
        return str(PLAIN_KEYS[key])
    return key


def _is_money(field: models.Field | None) -> bool:
    return isinstance(field, models.IntegerField) and (
        field.name in {"amount", "balance"} or field.name.endswith("_amount")
    )


def _is_year(field: models.Field | None, key: str) -> bool:
    if field is not None:
        return field.name == "year" or field.name.endswith("_year")
    return "year" in key.lower() or "năm" in key.lower()


def _date_text(value: str) -> str | None:
    try:
        if ISO_DATE.match(value):
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        if ISO_DATETIME.match(value):
            moment = datetime.datetime.fromisoformat(value)
            return moment.strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return None
    return None


class _Related:
    """Ids of related records met on a page, resolved to names and links in one query per model."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        self.names: dict[tuple[type[models.Model], int], str] = {}

    def want(self, field: models.Field | None, value) -> None:
        if _related_model(field) is not None and isinstance(value, int) and not isinstance(value, bool):
            self.wanted[_related_model(field)].add(value)

    def resolve(self) -> None:
        for model, ids in self.wanted.items():
            name_field = next((n for n in NAME_FIELDS if _has_field(model, n)), None)
            if name_field is None:
                continue
            for pk, name in model._default_manager.filter(pk__in=ids).values_list("pk", name_field):
                self.names[(model, pk)] = name

    def show(self, model: type[models.Model], pk: int) -> str:
        name = self.names.get((model, pk))
        if name is None:
            return f"#{pk}"
        return _link(model, pk, name)


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def _related_model(field: models.Field | None):
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        return field.related_model
    return None


def detail_url(label_lower: str, pk) -> str | None:
    name = DETAIL_URLS.get(label_lower)
    if name is None:
        return None
    try:
        return reverse(name, args=[int(pk)])
    except (NoReverseMatch, ValueError, TypeError):
        return None


def _link(model, pk, text) -> str:
    url = detail_url(model._meta.label_lower, pk)
    if url is None:
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', url, text)


def value_text(value, field: models.Field | None = None, key: str = "", related: _Related | None = None) -> str:
    """One value of an entry, as a person reads it (HTML-safe)."""
    if value is None or value == "" or value == "None":
        return EMPTY
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, int):
        model = _related_model(field)
        if model is not None and related is not None:
            return related.show(model, value)
        if _is_money(field):
            return format_money(value)
        if _is_year(field, key) or (field is None and 1900 <= value <= 2100):
            return str(value)
        return group_digits(value)
    if isinstance(value, float):
        return str(value).replace(".", ",")
    if isinstance(value, str):
        if isinstance(field, models.BooleanField) and value in {"True", "False"}:
            return gettext("Yes") if value == "True" else gettext("No")
        shown = _date_text(value)
        if shown is not None:
            return shown
        if isinstance(field, models.DecimalField) and re.fullmatch(r"-?\d+\.\d+", value):
            return value.rstrip("0").rstrip(".").replace(".", ",")  # 72.50 → 72,5
        return format_html("{}", value)
    if isinstance(value, list | tuple):
        return format_html("{}", ", ".join(str(value_text(item, field, key, related)) for item in value))
    if isinstance(value, dict):
        return format_html(
            "{}", "; ".join(f"{_label(k, None)}: {value_text(v, None, k, related)}" for k, v in value.items())
        )
    return format_html("{}", value)


def _is_pair(value) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2


def entries_readable(entries: Iterable[AuditEntry], *, user) -> list[AuditEntry]:
    """The entries, each with `lines` (its changes in plain words) and `record_url` (a link
    to the record it is about, where the portal shows that kind of record). Personal data
    is masked for roles that may not see it, as everywhere else."""
    entries = list(entries)
    related = _Related()
    prepared = []
    for entry in entries:
        # get_for_id is served from ContentType's cache: no query per entry.
        model = ContentType.objects.get_for_id(entry.content_type_id).model_class() if entry.content_type_id else None
        labels = _fields_by_label(model) if model is not None else {}
        items = []
        for key, raw in (entry.changes or {}).items():
            field = labels.get(key)
            value = privacy.mask_audit_value(key, raw, user=user)
            for part in value if _is_pair(value) else [value]:
                related.want(field, part)
            items.append((key, field, value))
        prepared.append((entry, model, items))
    related.resolve()
    for entry, model, items in prepared:
        entry.record_url = detail_url(model._meta.label_lower, entry.object_id) if model is not None else None
        entry.lines = [
            Line(
                label=_label(key, field),
                before=value_text(value[0], field, key, related) if _is_pair(value) else "",
                after=value_text(value[1] if _is_pair(value) else value, field, key, related),
                is_change=_is_pair(value),
            )
            for key, field, value in items
        ]
    return entries
