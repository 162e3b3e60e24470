"""The imports' part of the home page: recent uploads that stopped on errors."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.home import Attention, AttentionItem
from imports.models import ImportJob, ImportStatus

RECENT_DAYS = 30
SHOWN = 5


def imports_with_errors(user) -> Attention | None:
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    jobs = ImportJob.objects.visible_to(user).filter(
        status__in=[ImportStatus.INVALID, ImportStatus.FAILED], created_at__gte=since
    )
    count = jobs.count()
    if not count:
        return None
    items = [
        AttentionItem(f"{name} · {errors}", reverse("imports:detail", args=[pk]))
        for pk, name, errors in jobs.order_by("-created_at", "-id").values_list("pk", "original_name", "error_count")[
            :SHOWN
        ]
    ]
    return Attention(label=_("Imports with errors"), count=count, url=reverse("imports:job_list"), items=items)
