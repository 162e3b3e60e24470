from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from associations.models import StaffRole
from khuyenhoc.access import staff_profile
from khuyenhoc.health import health_report


@login_required
def home(request):
    profile = staff_profile(request.user)
    if profile is not None and profile.role == StaffRole.LEADER:
        # Leadership's start page is the plan dashboard of their branch.
        return redirect("plans:dashboard")
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
