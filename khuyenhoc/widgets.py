"""Widgets for long choice lists.

Django renders every <option> through a template; a city-level branch list of about 600
options then costs most of a list page's time. FastSelect writes the same HTML directly.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = {"name": name, **self.build_attrs(self.attrs, attrs)}
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, " selected" if str(option_value) in selected else "", label)
                for option_value, label in self._flat_choices()
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), options)

    def _flat_choices(self):
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):  # an <optgroup>: flatten, the portal uses none
                yield from ((str(v), lab) for v, lab in label)
            else:
                yield ("" if option_value is None else str(option_value), label)


class DayFirstDateInput(forms.DateInput):
    """A date typed day first, dd/mm/yyyy, that a phone's number pad can fill.

    The pad has no "/": eight digits typed together ("01012025") are read as ddmmyyyy;
    "01.01.2025" and "01-01-2025" are accepted by the formats (khuyenhoc/formats). Seven
    digits or fewer are left as typed, and refused by the field: which day is meant is not
    certain. Errors are the server's (the form is `novalidate`), never the browser's."""

    def __init__(self, attrs=None, format="%d/%m/%Y"):
        super().__init__(
            attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off", **(attrs or {})},
            format=format,
        )

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str):
            typed = value.strip()
            if len(typed) == 8 and typed.isdigit():
                return f"{typed[:2]}/{typed[2:4]}/{typed[4:]}"
        return value
