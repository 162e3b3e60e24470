from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from associations.access import can_write, staff_profile
from associations.home import attention_for, recent_records
from associations.models import StaffRole


@login_required
def home(request):
    profile = staff_profile(request.user)
    if profile is not None and profile.role == StaffRole.LEADER:
        # Leadership's start page is the plan dashboard of their branch.
        return redirect("plans:dashboard")
    known = profile is not None or request.user.is_superuser
    context = {
        "shortcuts": known and can_write(request.user),
        "attention": attention_for(request.user) if known else [],
        "recent": recent_records(request.user) if known else [],
    }
    return render(request, "home.html", context)
