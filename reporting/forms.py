from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from associations.forms import CleanTextMixin
from associations.models import BranchLevel
from khuyenhoc import measures
from reporting.models import REPORTING_LEVELS, Field, FieldSource, PeriodKind, ValueType


def values_form_class(fields: list[Field]) -> type[forms.Form]:
    """A form with one input per hand-entered field; the service checks the values."""
    attrs = {}
    for item in fields:
        if item.source != FieldSource.MANUAL:
            continue
        if item.value_type == ValueType.TEXT:
            widget = forms.Textarea(attrs={"rows": 3})
        else:
            widget = forms.TextInput(
                attrs={"inputmode": "decimal" if item.value_type == ValueType.PERCENTAGE else "numeric"}
            )
        attrs[item.code] = forms.CharField(label=item.label, required=False, widget=widget)
    return type("ReportValuesForm", (forms.Form,), attrs)


class PeriodForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PeriodKind.choices)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


class DeadlinesForm(forms.Form):
    def __init__(self, *args, initial_dates: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for level in REPORTING_LEVELS:
            self.fields[level] = forms.DateField(
                label=BranchLevel(level).label,
                required=False,
                input_formats=["%d/%m/%Y", "%Y-%m-%d"],
                initial=(initial_dates or {}).get(level),
                widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy"}),
            )


class SectionForm(CleanTextMixin, forms.Form):
    text_fields = ("title",)

    title = forms.CharField(label=_("Title"), max_length=255)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32000, initial=0)


class FieldForm(CleanTextMixin, forms.Form):
    text_fields = ("code", "label", "measure_code")

    section = forms.TypedChoiceField(label=_("Section"), coerce=int)
    order = forms.IntegerField(label=_("Order"), min_value=0, max_value=32000, initial=0)
    code = forms.CharField(label=_("Code"), max_length=40)
    label = forms.CharField(label=_("Label"), max_length=300)
    value_type = forms.ChoiceField(label=_("Type of value"), choices=ValueType.choices)
    source = forms.ChoiceField(label=_("Source"), choices=FieldSource.choices)
    measure_code = forms.CharField(label=_("Measure"), required=False, max_length=80)
    measure_filters = forms.CharField(
        label=_("Measure filters"),
        required=False,
        help_text=_('JSON, e.g. {"title": ["gia-dinh-hoc-tap"]}'),
    )

    def __init__(self, *args, form, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(s.pk, s.title) for s in form.sections.all()]
        self.measure_choices = measures.choices()

    def clean_measure_filters(self):
        text = self.cleaned_data["measure_filters"].strip()
        if not text:
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError(_('Filters are written as {"key": ["value", …]}.')) from None
