"""Forms of the yearly cycle's pages: registration, evaluation, review, withdrawal, decision,
deadlines and eligible totals. Every choice offered is limited to the user's subtree; the
services check every rule again (learning/services/cycle.py)."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.access import user_root_branch
from associations.forms import DATE_WIDGET, BranchChoiceField, CleanTextMixin
from associations.models import Branch
from khuyenhoc.text import search_key
from learning.models import MAX_YEAR, MIN_YEAR, SUBJECT_FIELDS, DeadlineStage, Registration, Stage, TitleKind

SEARCH_WIDGET = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})


def this_year() -> int:
    return timezone.localdate().year


def branches_for(user, *, levels_below: int = 2):
    """The branches a user may pick: their own and up to two levels below it."""
    queryset = Branch.objects.visible_to(user)
    root = user_root_branch(user)
    depth = root.depth if root else 1
    return queryset.filter(depth__lte=depth + levels_below).order_by("path")


def year_field(*, required: bool) -> forms.IntegerField:
    # Not localised: a year is written 2026, never 2.026.
    return forms.IntegerField(
        label=_("Year"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        required=required,
        widget=forms.NumberInput(attrs={"min": MIN_YEAR, "max": MAX_YEAR, "class": "form-control"}),
    )


def title_field(*, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Learning title"),
        queryset=TitleKind.objects.filter(active=True),
        required=required,
        empty_label=_("All titles") if not required else "---------",
    )


# --- The registration list ---------------------------------------------------------------------


class RegistrationFilterForm(forms.Form):
    """The list's filters. No year asked for means this year; an empty year means every year.
    The name is searched without diacritics ("nguyen van an" finds "Nguyễn Văn An"), in the
    subject's name whatever its type: a household's head (and address), a clan, a community,
    a unit or a citizen."""

    q = forms.CharField(label=_("Search by name"), max_length=100, required=False, widget=SEARCH_WIDGET)
    kind = title_field(required=False)
    year = year_field(required=False)
    branch = BranchChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        help_text=_("With the branches below it."),
    )
    stage = forms.ChoiceField(label=_("Stage"), choices=[("", _("All stages")), *Stage.choices], required=False)
    late = forms.BooleanField(label=_("Late only"), required=False)

    def __init__(self, data, *, user, **kwargs):
        data = data.copy()
        if "year" not in data:
            data["year"] = str(this_year())
        super().__init__(data, **kwargs)
        self.fields["branch"].queryset = branches_for(user)

    def filter(self, queryset):
        """The queryset narrowed by the valid filters (an invalid filter is ignored and shown as an error)."""
        self.is_valid()
        data = self.cleaned_data
        if data.get("kind"):
            queryset = queryset.filter(kind=data["kind"])
        if data.get("year"):
            queryset = queryset.filter(year=data["year"])
        if data.get("branch"):
            queryset = queryset.in_subtree(data["branch"])
        if data.get("stage"):
            queryset = queryset.filter(stage=data["stage"])
        key = search_key(data.get("q"))
        if key:
            # A title names its subject's type: only that table is searched then.
            fields = [SUBJECT_FIELDS[data["kind"].subject_type]] if data.get("kind") else SUBJECT_FIELDS.values()
            found = Q()
            for field in fields:
                found |= Q(**{f"{field}__name_search__contains": key})
            queryset = queryset.filter(found)
        return queryset


# --- Registering -------------------------------------------------------------------------------


class TitleYearForm(forms.Form):
    """The first step of registering: which title, which year, which subjects to list."""

    kind = title_field(required=True)
    year = year_field(required=True)
    branch = BranchChoiceField(
        label=_("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        help_text=_("List only the subjects of this branch and the branches below it."),
    )
    q = forms.CharField(label=_("Search by name"), max_length=100, required=False, widget=SEARCH_WIDGET)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_for(user)
        self.fields["year"].initial = this_year()


class RegistrationCreateForm(forms.Form):
    """The ticked subjects: the field's queryset is every subject the user may still register,
    so a subject of another subtree, or one registered meanwhile, is refused here as well."""

    subjects = forms.ModelMultipleChoiceField(
        label=_("Subjects"),
        queryset=Registration.objects.none(),
        error_messages={
            "required": _("Tick at least one subject to register."),
            "invalid_choice": _("Some of the ticked subjects can no longer be registered: list them again."),
            "invalid_pk_value": _("Some of the ticked subjects can no longer be registered: list them again."),
        },
    )
    registered_on = forms.DateField(label=_("Registered on"), widget=DATE_WIDGET)

    def __init__(self, *args, subjects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subjects"].queryset = subjects
        self.fields["registered_on"].initial = timezone.localdate()


class WithdrawForm(CleanTextMixin, forms.Form):
    text_fields = ("reason",)

    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. the household moved away")}),
    )


# --- Evaluation and review ---------------------------------------------------------------------


class EvaluationForm(CleanTextMixin, forms.Form):
    """One points input per criterion of the set (points_<id>, evidence_<id>), then who
    evaluated, when, and a note. The points' range is checked here criterion by criterion,
    with the criterion's number in the message, and again by the service."""

    text_fields = ("evaluator", "note")

    evaluator = forms.CharField(
        label=_("Evaluated by"), max_length=200, help_text=_("E.g. the board of the chapter, or a named person.")
    )
    evaluated_on = forms.DateField(label=_("Evaluated on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, criteria, evaluation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        known = {}
        if evaluation is not None:
            known = {score.criterion_id: score for score in evaluation.scores.all()}
            self.fields["evaluator"].initial = evaluation.evaluator
            self.fields["evaluated_on"].initial = evaluation.evaluated_on
            self.fields["note"].initial = evaluation.note
        else:
            self.fields["evaluated_on"].initial = timezone.localdate()
        for criterion in self.criteria:
            score = known.get(criterion.pk)
            self.fields[f"points_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.code}. {criterion.text}",
                required=False,
                initial=score.points if score else None,
                widget=forms.NumberInput(
                    attrs={"min": 0, "max": criterion.max_points, "step": 1, "class": "form-control points"}
                ),
                error_messages={"invalid": _("Write a whole number of points.")},
            )
            self.fields[f"evidence_{criterion.pk}"] = forms.CharField(
                label=_("Evidence"),
                max_length=500,
                required=False,
                initial=score.evidence if score else "",
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    def clean(self):
        data = super().clean()
        for criterion in self.criteria:
            name = f"points_{criterion.pk}"
            if name in self.errors:
                continue
            points = data.get(name)
            # Messages built here, not by a validator: a criterion's text may hold a "%".
            if points is None:
                self.add_error(name, _("Give the points of criterion %(code)s.") % {"code": criterion.code})
            elif points < 0 or points > criterion.max_points:
                self.add_error(
                    name,
                    _("Criterion %(code)s takes from 0 to %(max)d points, not %(points)d.")
                    % {"code": criterion.code, "max": criterion.max_points, "points": points},
                )
        return data

    def groups(self) -> list[tuple[str, list]]:
        """The criteria in their groups, in order: [(group, [(criterion, points field, evidence field)])]."""
        grouped: list[tuple[str, list]] = []
        for criterion in self.criteria:
            row = (criterion, self[f"points_{criterion.pk}"], self[f"evidence_{criterion.pk}"])
            if grouped and grouped[-1][0] == criterion.group:
                grouped[-1][1].append(row)
            else:
                grouped.append((criterion.group, [row]))
        return grouped

    def scores(self) -> dict[int, tuple[int, str]]:
        return {
            criterion.pk: (
                self.cleaned_data[f"points_{criterion.pk}"],
                self.cleaned_data.get(f"evidence_{criterion.pk}") or "",
            )
            for criterion in self.criteria
        }


REVIEW_CHOICES = [("approve", _("Approve: ready for the recognition decision")), ("refuse", _("Not recognised"))]


class ReviewForm(CleanTextMixin, forms.Form):
    text_fields = ("note",)

    outcome = forms.ChoiceField(label=_("Outcome"), choices=REVIEW_CHOICES, widget=forms.RadioSelect)
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=DATE_WIDGET)
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        help_text=_("Required when it is not recognised: say why."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewed_on"].initial = timezone.localdate()


# --- Decision ----------------------------------------------------------------------------------


class DecisionScopeForm(forms.Form):
    """Which branch, title and year a decision is for: it decides what can be ticked."""

    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    kind = title_field(required=True)
    year = year_field(required=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_for(user)
        self.fields["branch"].initial = getattr(user_root_branch(user), "pk", None)
        self.fields["year"].initial = this_year()


class DecisionForm(CleanTextMixin, forms.Form):
    text_fields = ("number", "body", "signer", "signer_title")

    number = forms.CharField(label=_("Decision number"), max_length=60, help_text=_("E.g. 125/QĐ-UBND."))
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE_WIDGET)
    body = forms.CharField(
        label=_("Recognising body"), max_length=255, help_text=_("E.g. Ủy ban nhân dân phường Phúc Xá.")
    )
    signer = forms.CharField(label=_("Signed by"), max_length=200)
    signer_title = forms.CharField(label=_("Signer's title"), max_length=200, required=False)
    registrations = forms.ModelMultipleChoiceField(
        label=_("Registrations recognised"),
        queryset=Registration.objects.none(),
        error_messages={
            "required": _("Tick at least one registration to recognise."),
            "invalid_choice": _("Some of the ticked registrations can no longer be recognised: list them again."),
            "invalid_pk_value": _("Some of the ticked registrations can no longer be recognised: list them again."),
        },
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registrations"].queryset = candidates
        self.fields["decided_on"].initial = timezone.localdate()


class DecisionFilterForm(forms.Form):
    kind = title_field(required=False)
    year = year_field(required=False)


# --- Deadlines and eligible totals -------------------------------------------------------------


class CycleScopeForm(forms.Form):
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    year = year_field(required=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_for(user)


class CycleSettingsForm(forms.Form):
    """A date per stage of the cycle (deadline_<stage>) and an eligible total per title
    (eligible_<id>). An empty field changes nothing."""

    def __init__(self, *args, kinds, inherited: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = list(kinds)
        for stage, label in DeadlineStage.choices:
            above = inherited.get(stage)
            help_text = ""
            if above is not None:
                help_text = _("Set above, by %(branch)s: %(day)s.") % {
                    "branch": above.branch.name,
                    "day": above.due_on.strftime("%d/%m/%Y"),
                }
            self.fields[f"deadline_{stage}"] = forms.DateField(
                label=label, required=False, widget=DATE_WIDGET, help_text=help_text
            )
        for kind in self.kinds:
            self.fields[f"eligible_{kind.pk}"] = forms.IntegerField(
                label=kind.name,
                required=False,
                min_value=0,
                widget=forms.NumberInput(attrs={"min": 0, "class": "form-control"}),
            )

    def deadline_fields(self):
        return [self[f"deadline_{stage}"] for stage in DeadlineStage.values]

    def eligible_fields(self):
        return [self[f"eligible_{kind.pk}"] for kind in self.kinds]
