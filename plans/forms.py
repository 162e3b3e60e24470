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
        self.fields["threshold_percent"].required = False
        self.fields["deadline"].required = False
        self.fields["indicator"].required = False
        if self.instance.pk and self.instance.indicator:
            # One of Plan 99's targets: its indicator is computed by its own code; the
            # catalogue definition it is linked to says the same and is not chosen here.
            del self.fields["definition"]
        elif self.instance.pk:
            for name in ("indicator", "threshold_percent", "deadline", "organization_kinds", "member_categories"):
                del self.fields[name]
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

    def _set(self, cleaned: dict, **values) -> None:
        """Set fields of the target, through the cleaned data when the form shows them."""
        for name, value in values.items():
            setattr(self.instance, name, value)
            if name in self.fields:
                cleaned[name] = value

    def clean(self):
        cleaned = super().clean()
        definition = cleaned.get("definition")
        indicator = cleaned.get("indicator") if "indicator" in self.fields else ""
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
                self._set(cleaned, threshold_percent=milestones[last_year], deadline=datetime.date(last_year, 12, 31))
            self._set(cleaned, indicator="", organization_kinds=[], member_categories=[])
        else:
            cleaned["applies_to_level"] = cleaned.get("applies_to_level") or ""
            if cleaned.get("threshold_percent") is None and "threshold_percent" not in self.errors:
                self.add_error("threshold_percent", _("Write the target percentage."))
            if cleaned.get("deadline") is None and "deadline" not in self.errors:
                self.add_error("deadline", _("Write the deadline as dd/mm/yyyy."))
        return cleaned


def _filters_text(filters: dict) -> str:
    return "\n".join(f"{key}: {', '.join(values)}" for key, values in (filters or {}).items())


class FiltersField(forms.CharField):
    """Scope filters written one per line, “name: value, value” — e.g. “kinds: agency,
    public_service”; the model checks the names and values against the measure."""

    widget = forms.Textarea

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            _("Optional, one per line: a filter's name, a colon, its values, e.g. “kinds: agency, public_service”."),
        )
        super().__init__(**kwargs)
        self.widget.attrs["rows"] = 2  # over Textarea's own 10

    def prepare_value(self, value):
        return _filters_text(value) if isinstance(value, dict) else value

    def to_python(self, value) -> dict[str, list[str]]:
        text = super().to_python(value) or ""
        filters: dict[str, list[str]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, separator, values = line.partition(":")
            if not separator or not key.strip():
                raise ValidationError(
                    _("Line %(line)s: write the filter's name, a colon and its values, e.g. “kinds: agency”.")
                    % {"line": number}
                )
            filters[key.strip()] = [value.strip() for value in values.split(",") if value.strip()]
        return filters


class IndicatorDefinitionForm(CleanTextMixin, forms.ModelForm):
    """An indicator from the catalogue of measures: a numerator, and a denominator for a
    percentage, each with optional scope filters."""

    text_fields = ("name", "description", "source")
    numerator_measure = forms.ChoiceField(label=_("Numerator (measure)"))
    numerator_filters = FiltersField(label=_("Numerator filters"))
    denominator_measure = forms.ChoiceField(label=_("Denominator (measure)"), required=False)
    denominator_filters = FiltersField(label=_("Denominator filters"))

    class Meta:
        model = IndicatorDefinition
        fields = [
            "code",
            "name",
            "unit",
            "numerator_measure",
            "numerator_filters",
            "denominator_measure",
            "denominator_filters",
            "description",
            "source",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "source": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, measure_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(code, f"{code} — {label}") for code, label in measure_choices]
        self.fields["numerator_measure"].choices = [("", "—"), *choices]
        self.fields["denominator_measure"].choices = [("", _("None: a plain value")), *choices]
