from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from associations.access import staff_profile
from associations.models import StaffRole


@login_required
def home(request):
    profile = staff_profile(request.user)
    if profile is not None and profile.role == StaffRole.LEADER:
        # Leadership's start page is the plan dashboard of their branch.
        return redirect("plans:dashboard")
    return render(request, "home.html")
