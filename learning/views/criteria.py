"""The criteria sets of the learning titles: every staff member reads them (they are the
province's, not a branch's); managers and administrators change a set not yet used, and
make a new version of one an evaluation has frozen. The services (learning/services/
criteria.py) hold the rules: who may write, a frozen set never changes, codes, points and
levels that fit together."""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from associations.selectors import history_of
from khuyenhoc.forms_util import apply_validation_error
from learning import services
from learning.forms import (
    CriteriaSetForm,
    CriterionForm,
    CriterionFormSet,
    LevelForm,
    LevelFormSet,
    formset_initial,
    formset_rows,
)
from learning.models import CriteriaSet, TitleKind
from learning.selectors import may_edit_criteria
from learning.services.criteria import require_criteria_writer


def _criteria_set(pk: int) -> CriteriaSet:
    return get_object_or_404(CriteriaSet.objects.select_related("kind", "previous"), pk=pk)


@login_required
@require_GET
def criteria_list(request):
    """Every title with its criteria sets, newest first: a fixed two queries."""
    sets = CriteriaSet.objects.order_by("-valid_from", "-version")
    kinds = TitleKind.objects.prefetch_related(Prefetch("criteria_sets", queryset=sets))
    return render(request, "learning/criteria_list.html", {"kinds": kinds, "section": "criteria"})


@login_required
@require_GET
def criteria_detail(request, pk: int):
    criteria_set = _criteria_set(pk)
    criteria = list(criteria_set.criteria.order_by("ordering", "id"))
    groups = [(group, list(rows)) for group, rows in groupby(criteria, key=lambda criterion: criterion.group)]
    context = {
        "criteria_set": criteria_set,
        "groups": groups,
        "total": sum(criterion.max_points for criterion in criteria),
        "levels": criteria_set.levels.order_by("-min_points"),
        "newer": CriteriaSet.objects.filter(previous=criteria_set).first(),
        "history": history_of(criteria_set)[:100],
        "may_edit": may_edit_criteria(request.user),
        "section": "criteria",
    }
    return render(request, "learning/criteria_detail.html", context)


@login_required
def criteria_update(request, pk: int):
    """The set's own fields, its criteria and its levels, saved together; a frozen set is not
    edited but sent back to its page, where its new-version button is."""
    require_criteria_writer(request.user)
    criteria_set = _criteria_set(pk)
    if criteria_set.is_frozen:
        messages.error(request, _("This criteria set is in use and can no longer be changed: make a new version."))
        return redirect("learning:criteria_detail", pk=criteria_set.pk)
    data = request.POST or None
    form = CriteriaSetForm(data, instance=criteria_set)
    criteria = CriterionFormSet(
        data,
        prefix="criteria",
        initial=formset_initial(criteria_set.criteria.order_by("ordering", "id"), CriterionForm),
    )
    levels = LevelFormSet(data, prefix="levels", initial=formset_initial(criteria_set.levels.all(), LevelForm))
    if request.method == "POST" and all([form.is_valid(), criteria.is_valid(), levels.is_valid()]):
        for field, value in form.cleaned_data.items():
            setattr(criteria_set, field, value)
        try:
            services.criteria_set_save(
                actor=request.user,
                criteria_set=criteria_set,
                criteria=formset_rows(criteria),
                levels=formset_rows(levels),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("The criteria set was saved."))
            return redirect("learning:criteria_detail", pk=criteria_set.pk)
    context = {"criteria_set": criteria_set, "form": form, "criteria": criteria, "levels": levels}
    return render(request, "learning/criteria_form.html", {**context, "section": "criteria"})


@login_required
@require_POST
def criteria_new_version(request, pk: int):
    """Copy a frozen set as its next version and open the copy for editing. A set not yet used
    is edited in place: no copy is made of it."""
    require_criteria_writer(request.user)
    criteria_set = _criteria_set(pk)
    if not criteria_set.is_frozen:
        messages.info(request, _("This criteria set is not in use yet: change it directly."))
        return redirect("learning:criteria_detail", pk=criteria_set.pk)
    try:
        new = services.criteria_set_new_version(actor=request.user, criteria_set=criteria_set)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("learning:criteria_detail", pk=criteria_set.pk)
    messages.success(request, _("Version %(version)d was made: change it below.") % {"version": new.version})
    return redirect("learning:criteria_update", pk=new.pk)
