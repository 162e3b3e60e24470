"""Widgets for long choice lists.

Django renders every <option> through a template; a city-level branch list of about 600
options then costs most of a list page's time. FastSelect writes the same HTML directly.
"""

from urllib.parse import urlencode

from django import forms
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext


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


class SearchSelect(FastSelect):
    """A <select> that becomes a search-as-you-type picker (static/js/picker.js).

    The select is rendered whole, as before: it is what works without JavaScript, and the
    set of values the form accepts. With JavaScript a text box is shown instead; what is
    typed is sent to the endpoint `url_name` (?q=…, khuyenhoc.search) and a result that
    is not among the select's options is not offered."""

    def __init__(self, url_name: str, attrs=None, choices=()):
        super().__init__(attrs=attrs, choices=choices)
        self.url_name = url_name
        self.levels: set[str] = set()  # branch levels the endpoint narrows to (?level=…), when set

    def render(self, name, value, attrs=None, renderer=None):
        # The options first: drawing them may tell which levels the field offers (self.levels).
        options = list(self._flat_choices())
        final_attrs = {"name": name, **self.build_attrs(self.attrs, attrs)}
        selected = {str(v) for v in self.format_value(value)}
        rows = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((value, " selected" if value in selected else "", label) for value, label in options),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), rows)

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        query = urlencode([("level", level) for level in sorted(self.levels)])
        attrs["data-picker"] = reverse(self.url_name) + (f"?{query}" if query else "")
        attrs["data-picker-placeholder"] = gettext("Type part of a name…")
        attrs["data-picker-empty"] = gettext("Nothing of your branch matches.")
        return attrs


class SearchIdInput(forms.TextInput):
    """The id of a record too numerous for a <select> (a member), found by searching.

    Without JavaScript the box takes the record's number; picker.js turns it into a search
    box (name, or citizen ID) and keeps the chosen id in a hidden input. `label_of(value)`
    names the record already chosen, when the form is shown again."""

    def __init__(self, url_name: str, label_of=None, attrs=None):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})
        self.url_name = url_name
        self.label_of = label_of

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-picker"] = reverse(self.url_name)
        attrs["data-picker-placeholder"] = gettext("Type a name or a citizen ID…")
        attrs["data-picker-empty"] = gettext("Nothing of your branch matches.")
        return attrs

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        label = self.label_of(value) if self.label_of and value not in (None, "") else ""
        if label:
            context["widget"]["attrs"]["data-picker-label"] = label
        return context


def search_only(field: forms.ModelChoiceField, *, levels=()) -> None:
    """Give a model choice field (its queryset already set) a SearchOnlySelect on the same
    endpoint as its SearchSelect; `levels`: the branch levels its search is narrowed to
    (none: every level of the user's subtree)."""
    field.widget = SearchOnlySelect(field.widget.url_name, attrs=field.widget.attrs)
    field.queryset = field.queryset  # links the widget to the field's choices
    field.widget.levels = set(levels)


class SearchOnlySelect(SearchSelect):
    """A SearchSelect that does not list its choices: the <select> holds only the empty
    choice and the value chosen, so a filter over hundreds of branches, funds or rounds costs
    no more to draw than one over three (one query, only when a value is chosen). picker.js
    then offers every result of the endpoint (`data-picker-open`): the form's field still
    checks the value posted against its queryset. Without JavaScript only the value already
    chosen can be kept or cleared."""

    def render(self, name, value, attrs=None, renderer=None):
        iterator = self.choices
        field = getattr(iterator, "field", None)
        queryset = getattr(iterator, "queryset", None)
        if field is None or queryset is None:
            return super().render(name, value, attrs, renderer)
        chosen = [str(v) for v in self.format_value(value) if str(v).isdigit()]
        options = [("", field.empty_label)] if field.empty_label is not None else []
        if chosen:
            options += [(str(obj.pk), field.label_from_instance(obj)) for obj in queryset.filter(pk__in=chosen)]
        final_attrs = {"name": name, **self.build_attrs(self.attrs, attrs)}
        final_attrs["data-picker-open"] = ""
        rows = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((option, " selected" if option in chosen else "", label) for option, label in options),
        )
        return format_html("<select{}>{}</select>", flatatt(final_attrs), rows)
