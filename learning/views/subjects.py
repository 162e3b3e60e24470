"""The registers of the subjects of the learning titles: households, clans, residential
communities and citizens, each with a list, a detail page with its history, and the forms
that create and change them through the services (learning/services/subjects.py).

The four registers share these views; what differs between them is a `SubjectPages` entry
(the model, its form, its service, its URL names, its import). Lists keep to the user's
subtree (`visible_to`), records are fetched with `get_visible_or_404`: 404 outside the
subtree, 403 to a read-only role asking for a form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from associations.access import get_visible_or_404, require_write
from associations.selectors import branch_in_scope, history_of
from khuyenhoc import form_tokens
from khuyenhoc.db import vietnamese_order
from khuyenhoc.forms_util import apply_validation_error
from khuyenhoc.pagination import CappedPaginator, paged
from khuyenhoc.text import search_key
from learning import services
from learning.forms import CitizenForm, ClanForm, CommunityForm, HouseholdForm, SubjectFilterForm, SubjectForm
from learning.models import Citizen, Clan, Community, Household


@dataclass(frozen=True)
class SubjectPages:
    name: str  # the model's name in URL names and templates: household → household_list, household_detail.html
    model: type[Model]
    form: type[SubjectForm]
    save: Callable[..., Model]  # the service: save(actor=…, <name>=…, data=…)
    order_by: str  # the field the list sorts on, in Vietnamese order
    import_kind: str  # the kind of its Excel import
    title: Promise  # the list's heading
    add: Promise  # the add button and the create page's heading
    related: tuple[str, ...] = ("branch",)

    def url(self, action: str) -> str:
        return f"learning:{self.name}_{action}"

    # For the templates, which cannot pass an argument.
    list_url = property(lambda self: self.url("list"))
    create_url = property(lambda self: self.url("create"))
    detail_url = property(lambda self: self.url("detail"))
    update_url = property(lambda self: self.url("update"))


HOUSEHOLDS = SubjectPages(
    name="household",
    model=Household,
    form=HouseholdForm,
    save=services.household_save,
    order_by="head_name",
    import_kind="households",
    title=gettext_lazy("Households"),
    add=gettext_lazy("Add a household"),
)
CLANS = SubjectPages(
    name="clan",
    model=Clan,
    form=ClanForm,
    save=services.clan_save,
    order_by="name",
    import_kind="clans",
    title=gettext_lazy("Clans"),
    add=gettext_lazy("Add a clan"),
)
COMMUNITIES = SubjectPages(
    name="community",
    model=Community,
    form=CommunityForm,
    save=services.community_save,
    order_by="name",
    import_kind="communities",
    title=gettext_lazy("Residential communities"),
    add=gettext_lazy("Add a village or residential group"),
)
CITIZENS = SubjectPages(
    name="citizen",
    model=Citizen,
    form=CitizenForm,
    save=services.citizen_save,
    order_by="full_name",
    import_kind="citizens",
    title=gettext_lazy("Learning citizens"),
    add=gettext_lazy("Add a citizen"),
    related=("branch", "organization", "member"),
)
SUBJECT_PAGES = (HOUSEHOLDS, CLANS, COMMUNITIES, CITIZENS)


def subjects_filtered(pages: SubjectPages, user, params) -> QuerySet:
    """The subjects the user may see, narrowed to a branch's subtree (?branch) and a search (?q)."""
    queryset = pages.model.objects.visible_to(user)
    branch = branch_in_scope(user, params.get("branch"))
    if branch is not None:
        queryset = queryset.in_subtree(branch)
    if params.get("q"):
        queryset = queryset.filter(name_search__contains=search_key(params["q"]))
    return queryset.select_related(*pages.related).order_by(vietnamese_order(pages.order_by), "id")


def _context(pages: SubjectPages, **extra) -> dict:
    return {"pages": pages, "section": pages.name, **extra}


@login_required
@require_GET
def subject_list(request, *, pages: SubjectPages):
    subjects = subjects_filtered(pages, request.user, request.GET)
    filters = SubjectFilterForm(request.GET or None, user=request.user)
    context = _context(pages, filters=filters, **paged(request, subjects, paginator_class=CappedPaginator))
    return render(request, f"learning/{pages.name}_list.html", context)


@login_required
@require_GET
def subject_detail(request, pk: int, *, pages: SubjectPages):
    subject = get_visible_or_404(request.user, pages.model.objects.select_related(*pages.related), pk=pk)
    context = _context(pages, subject=subject, history=history_of(subject)[:100])
    return render(request, f"learning/{pages.name}_detail.html", context)


def _form_page(request, pages: SubjectPages, subject: Model):
    creating = not subject.pk
    if creating and (done := form_tokens.already_saved(request)) is not None:
        return done
    form = pages.form(request.POST or None, instance=subject if subject.pk else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = pages.save(actor=request.user, **{pages.name: subject}, data=form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": saved})
            url = reverse(pages.url("detail"), kwargs={"pk": saved.pk})
            if creating:
                form_tokens.remember(request, url)
            return redirect(url)
    context = _context(pages, form=form, subject=None if creating else subject)
    return render(request, "learning/subject_form.html", context)


@login_required
def subject_create(request, *, pages: SubjectPages):
    require_write(request.user)
    return _form_page(request, pages, pages.model())


@login_required
def subject_update(request, pk: int, *, pages: SubjectPages):
    subject = get_visible_or_404(request.user, pages.model.objects.select_related("branch"), pk=pk, write=True)
    return _form_page(request, pages, subject)
