from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from associations.forms import CleanTextMixin
from associations.models import PLAN_MEMBER_CATEGORIES, Branch, MemberCategory, OrganizationKind
from plans.models import Plan, Target

DATE_WIDGET = forms.DateInput(attrs={"placeholder": "dd/mm/yyyy"})


class PlanForm(CleanTextMixin, forms.ModelForm):
    text_fields = ("code", "title")

    class Meta:
        model = Plan
        fields = ["code", "title", "issuing_branch", "issued_on", "starts_on", "ends_on", "is_active"]
        widgets = {"issued_on": DATE_WIDGET, "starts_on": DATE_WIDGET, "ends_on": DATE_WIDGET}

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["issuing_branch"].queryset = branches if branches is not None else Branch.objects.none()


class TargetForm(forms.ModelForm):
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
        help_text=_("Optional, one per line: year and percentage, e.g. “2022: 50”."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Target
        fields = [
            "indicator",
            "threshold_percent",
            "deadline",
            "root_branch",
            "organization_kinds",
            "member_categories",
            "position",
        ]
        widgets = {"deadline": DATE_WIDGET}

    def __init__(self, *args, branches=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["root_branch"].queryset = branches if branches is not None else Branch.objects.none()
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
