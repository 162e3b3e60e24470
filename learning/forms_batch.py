"""The batch evaluation page's forms: which title, year and branch (a chapter, or a commune
with its chapters), then one row per registration with a points input per criterion, an
evidence note and who evaluated. The points are checked here cell by cell, so that every
error of every row is shown at once beside its input; the service checks every rule again
(learning/services/batch.py)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.access import user_root_branch
from associations.forms import DATE_WIDGET, BranchChoiceField, CleanTextMixin
from associations.models import Branch
from khuyenhoc.text import clean_text
from learning.forms_cycle import branches_for, this_year, title_field, year_field
from learning.models import Stage
from learning.services.batch import EvaluationRow


class BatchScopeForm(forms.Form):
    kind = title_field(required=True)
    year = year_field(required=True)
    branch = BranchChoiceField(
        label=gettext_lazy("Branch"),
        queryset=Branch.objects.none(),
        help_text=gettext_lazy("A chapter, or a commune with its chapters."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches_for(user)
        self.fields["branch"].initial = getattr(user_root_branch(user), "pk", None)
        self.fields["year"].initial = this_year()


class BatchEvaluationForm(CleanTextMixin, forms.Form):
    """Fields per registration r: points_<r>_<criterion>, evidence_<r>, evaluator_<r>; and for
    the whole page the default evaluator and the date. A row left wholly empty is skipped."""

    text_fields = ("evaluator",)

    evaluator = forms.CharField(
        label=gettext_lazy("Evaluated by"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For every row whose own “evaluated by” is left empty."),
    )
    evaluated_on = forms.DateField(label=gettext_lazy("Evaluated on"), widget=DATE_WIDGET)

    def __init__(self, *args, registrations, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.registrations = list(registrations)
        self.criteria = list(criteria)
        self.fields["evaluated_on"].initial = timezone.localdate()
        self.problems: list[str] = []
        for registration in self.registrations:
            for criterion in self.criteria:
                self.fields[self.points_name(registration, criterion)] = forms.IntegerField(
                    label=_("%(code)s of %(subject)s") % {"code": criterion.code, "subject": registration.subject},
                    required=False,
                    widget=forms.NumberInput(
                        attrs={"min": 0, "max": criterion.max_points, "step": 1, "class": "form-control points"}
                    ),
                    error_messages={"invalid": _("Write a whole number of points.")},
                )
            self.fields[f"evidence_{registration.pk}"] = forms.CharField(
                label=_("Evidence"),
                max_length=500,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
            self.fields[f"evaluator_{registration.pk}"] = forms.CharField(
                label=_("Evaluated by"),
                max_length=200,
                required=False,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    @staticmethod
    def points_name(registration, criterion) -> str:
        return f"points_{registration.pk}_{criterion.pk}"

    def _filled(self, registration) -> bool:
        names = [self.points_name(registration, criterion) for criterion in self.criteria]
        names += [f"evidence_{registration.pk}", f"evaluator_{registration.pk}"]
        return any(str(self.data.get(self.add_prefix(name), "")).strip() for name in names)

    def _problem(self, registration, name: str | None, message: str) -> None:
        """An error shown beside its input and, named by its subject, in the list above the table."""
        self.problems.append(_("%(subject)s: %(problem)s") % {"subject": registration.subject, "problem": message})
        if name is not None:
            self.add_error(name, message)

    def clean(self):
        data = super().clean()
        self.scored = []
        default_evaluator = data.get("evaluator") or ""
        for registration in self.registrations:
            if not self._filled(registration):
                continue
            self.scored.append(registration)
            if registration.stage == Stage.WITHDRAWN:
                self._problem(registration, None, _("It was withdrawn: it cannot be evaluated."))
                continue
            if registration.stage != Stage.REGISTERED:
                stage = registration.get_stage_display().lower()
                message = _("It is already %(stage)s: re-evaluate it on its own page.") % {"stage": stage}
                self._problem(registration, None, message)
                continue
            for criterion in self.criteria:
                name = self.points_name(registration, criterion)
                if name in self.errors:
                    self._problem(registration, None, self.errors[name][0])
                    continue
                points = data.get(name)
                # Messages built here, not by a validator: a criterion's text may hold a "%".
                if points is None:
                    message = _("Give the points of criterion %(code)s.") % {"code": criterion.code}
                    self._problem(registration, name, message)
                elif points < 0 or points > criterion.max_points:
                    self._problem(
                        registration,
                        name,
                        _("Criterion %(code)s takes from 0 to %(max)d points, not %(points)d.")
                        % {"code": criterion.code, "max": criterion.max_points, "points": points},
                    )
            if not clean_text(data.get(f"evaluator_{registration.pk}")) and not default_evaluator:
                self._problem(registration, f"evaluator_{registration.pk}", _("Say who evaluated."))
        if not self.scored and not self.errors:
            raise forms.ValidationError(_("Score at least one registration."))
        return data

    def rows(self) -> list[EvaluationRow]:
        """The filled rows, for `learning.services.evaluations_record`; the evidence note is the
        evaluation's note."""
        data = self.cleaned_data
        return [
            EvaluationRow(
                registration=registration,
                scores={
                    criterion.pk: (data[self.points_name(registration, criterion)], "") for criterion in self.criteria
                },
                evaluator=clean_text(data.get(f"evaluator_{registration.pk}")) or data["evaluator"],
                evaluated_on=data["evaluated_on"],
                note=clean_text(data.get(f"evidence_{registration.pk}")),
            )
            for registration in self.scored
        ]

    def table(self) -> list[dict]:
        """The rows as the template draws them."""
        return [
            {
                "registration": registration,
                "cells": [(criterion, self[self.points_name(registration, criterion)]) for criterion in self.criteria],
                "evidence": self[f"evidence_{registration.pk}"],
                "evaluator": self[f"evaluator_{registration.pk}"],
            }
            for registration in self.registrations
        ]
