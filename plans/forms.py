from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from associations.forms import CleanTextMixin
from associations.models import PLAN_MEMBER_CATEGORIES, Branch, BranchLevel, MemberCategory, OrganizationKind
from plans.models import IndicatorDefinition, IndicatorUnit, Plan, Target

DATE_WIDGET = forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"})


class PlanForm(CleanTextMixin, forms.ModelForm):
    text_fields = ("code", "title")

    class Meta:
        model = Plan
        fields = ["code", "title", "issuing_branch", "issued_on", "starts_on", "ends_on", "is_active", "note"]
        widgets = {
            "issued_on": DATE_WIDGET,
            "starts_on": DATE_WIDGET,
            "ends_on": DATE_WIDGET,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"code": _("Number"), "issuing_branch": _("Issued by")}

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuing_branch"].queryset = branches if branches is not None else Branch.objects.none()
        self.fields["title"].error_messages["required"] = _("Write the plan's title.")
        self.fields["code"].error_messages["required"] = _("Write the plan's number, e.g. 291/KH-UBND.")
        for name in ("issued_on", "starts_on", "ends_on"):
            self.fields[name].error_messages["required"] = _("Write a date as dd/mm/yyyy.")
            self.fields[name].error_messages["invalid"] = _("Write a date as dd/mm/yyyy, e.g. 31/12/2025.")


class TargetForm(forms.ModelForm):
    """A target: a catalogue indicator with its yearly milestones (the last one is the
    target and its year the deadline), or one of Plan 99's two indicators with a
    threshold and a deadline of its own."""

    definition = forms.ModelChoiceField(
        label=_("Indicator"),
        queryset=IndicatorDefinition.objects.filter(unit=IndicatorUnit.PERCENT),
        required=False,
        help_text=_("From the catalogue of indicators."),
    )
    applies_to_level = forms.ChoiceField(
        label=_("Applies to each"),
        choices=[("", _("The subtree as a whole"))]
        + [(value, label) for value, label in BranchLevel.choices if value in ("city", "district", "commune")],
        required=False,
    )
    organization_kinds = forms.MultipleChoiceField(
        label=_("Organisation kinds counted"),
        choices=OrganizationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    member_categories = forms.MultipleChoiceField(
        label=_("Member categories counted"),
        choices=[(c.value, c.label) for c in MemberCategory if c in PLAN_MEMBER_CATEGORIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    milestones = forms.CharField(
        label=_("Yearly milestones"),
        required=False,
        help_text=_(
            "One per line: year and percentage, e.g. “2025: 70” and “2030: 80”. For a catalogue "
            "indicator the last line is the target and its year the deadline."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Target
        fields = [
            "definition",
            "root_branch",
            "applies_to_level",
            "indicator",
            "threshold_percent",
            "deadline",
            "organization_kinds",
            "member_categories",
            "position",
        ]
        widgets = {"deadline": DATE_WIDGET}
        labels = {"indicator": _("Or one of Plan 99's indicators")}

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root_branch"].queryset = branches if branches is not None else Branch.objects.none()
        self.fields["root_branch"].error_messages["required"] = _("Choose the branch whose subtree the target counts.")
        self.fields["threshold_percent"].required = False
        self.fields["deadline"].required = False
        self.fields["indicator"].required = False
        if self.instance.pk:
            self.initial["milestones"] = "\n".join(f"{m.year}: {m.percent:g}" for m in self.instance.milestones.all())

    def clean_milestones(self) -> dict[int, Decimal]:
        result: dict[int, Decimal] = {}
        for number, line in enumerate(self.cleaned_data["milestones"].splitlines(), start=1):
            if not line.strip():
                continue
            year, _sep, percent = line.partition(":")
            try:
                year_value = int(year.strip())
                percent_value = Decimal(percent.strip().replace(",", "."))
            except (ValueError, InvalidOperation):
                raise ValidationError(
                    _("Line %(line)s: write a year and a percentage, e.g. “2022: 50”.") % {"line": number}
                ) from None
            if not 1945 <= year_value <= 2100 or not 0 <= percent_value <= 100:
                raise ValidationError(
                    _("Line %(line)s: the year or the percentage is out of range.") % {"line": number}
                )
            result[year_value] = percent_value
        return result

    def clean(self):
        cleaned = super().clean()
        definition = cleaned.get("definition")
        indicator = cleaned.get("indicator")
        milestones = cleaned.get("milestones") or {}
        if definition and indicator:
            raise ValidationError(_("Choose one indicator: from the catalogue or one of Plan 99's, not both."))
        if not definition and not indicator:
            self.add_error("definition", _("Choose an indicator."))
            return cleaned
        if definition:
            if "milestones" in cleaned and not milestones:
                self.add_error("milestones", _("Write at least one milestone, e.g. “2030: 80”."))
                return cleaned
            if milestones:
                last_year = max(milestones)
                if not milestones[last_year] > 0:
                    self.add_error("milestones", _("The last milestone is the target: it must be above 0%."))
                    return cleaned
                cleaned["threshold_percent"] = milestones[last_year]
                cleaned["deadline"] = datetime.date(last_year, 12, 31)
                self.instance.threshold_percent = cleaned["threshold_percent"]
                self.instance.deadline = cleaned["deadline"]
            cleaned["indicator"] = ""
            cleaned["organization_kinds"] = []
            cleaned["member_categories"] = []
        else:
            cleaned["applies_to_level"] = cleaned.get("applies_to_level") or ""
            if cleaned.get("threshold_percent") is None and "threshold_percent" not in self.errors:
                self.add_error("threshold_percent", _("Write the target percentage."))
            if cleaned.get("deadline") is None and "deadline" not in self.errors:
                self.add_error("deadline", _("Write the deadline as dd/mm/yyyy."))
        return cleaned
