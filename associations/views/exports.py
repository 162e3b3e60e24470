"""Excel export of the registry lists (members, organisations), with the current filters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from associations import exports


@login_required
@require_GET
def member_export(request):
    return exports.member_export(user=request.user, params=request.GET)


@login_required
@require_GET
def organization_export(request):
    return exports.organization_export(user=request.user, params=request.GET)
