"""`{% load forms %}`: what every portal form carries besides its fields."""

from django import forms, template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from khuyenhoc.form_tokens import FIELD, new_token, posted_token
from khuyenhoc.widgets import FastSelect

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context) -> str:
    """The hidden one-time token (khuyenhoc.form_tokens): the posted one when a form comes
    back with errors, so that saving it then still counts once; else a new one."""
    request = context.get("request")
    token = (posted_token(request) if request is not None and request.method == "POST" else "") or new_token()
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, token)


# --- A list's filter field, written directly ----------------------------------------------------
# crispy-forms renders a field through five nested templates and Django a <select> through one
# template per <option>: a money list's ten filters cost 15–20 ms of a request under load
# (bench/NOTES.md). `{{ field|filter_field }}` writes the same markup as crispy's bootstrap5
# `as_crispy_field` (ids, classes, errors, help text) with format_html.

_INPUT_TYPES = (forms.TextInput, forms.DateInput, forms.NumberInput, forms.EmailInput, forms.SearchInput)


def _control(field, css: str, extra: dict) -> str:
    widget = field.field.widget
    attrs = {"class": f"{type(widget).__name__.lower()} {css}".strip(), **extra}
    if field.auto_id:
        attrs["id"] = field.auto_id
    if type(widget) is forms.Select:
        fast = FastSelect(attrs=widget.attrs, choices=widget.choices)
        return fast.render(field.html_name, field.value(), attrs=attrs)
    if isinstance(widget, _INPUT_TYPES) and not widget.is_hidden and type(widget).render is forms.Widget.render:
        final = widget.build_attrs(widget.attrs, attrs)
        if field.field.required and field.form.use_required_attribute:
            final["required"] = True
        value = widget.format_value(field.value())
        value_attr = format_html(' value="{}"', value) if value is not None else ""
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget.input_type, field.html_name, value_attr, flatatt(final)
        )
    return field.as_widget(attrs=attrs)


def _errors(field) -> str:
    if not field.errors:
        return ""
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((number, field.auto_id, error) for number, error in enumerate(field.errors, start=1)),
        ),
    )


def _help(field) -> str:
    if not field.help_text:
        return ""
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)


@register.filter
def filter_field(field) -> str:
    """{{ field|filter_field }}: a bound field as crispy's bootstrap5 field writes it."""
    if field.is_hidden:
        return field.as_widget()
    described = [f"{field.auto_id}_helptext"] if field.help_text else []
    invalid = {"aria-invalid": "true"} if field.errors else {}
    if field.errors:
        described.append(f"{field.auto_id}_error")
    if described:
        invalid["aria-describedby"] = " ".join(described)
    asterisk = mark_safe('<span class="asteriskField">*</span>') if field.field.required else ""
    if isinstance(field.field.widget, forms.CheckboxInput):
        css = "form-check-input is-invalid" if field.errors else "form-check-input"
        label = format_html(
            '<label for="{}" class="form-check-label">{}{}</label>', field.auto_id, field.label, asterisk
        )
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check">{}{}{}{}</div></div>',
            field.auto_id, _control(field, css, invalid), label, _errors(field), _help(field),
        )  # fmt: skip
    css = "form-select" if isinstance(field.field.widget, forms.Select) else "form-control"
    if field.errors:
        css += " is-invalid"
    label = ""
    if field.label:
        required = " requiredField" if field.field.required else ""
        label = format_html(
            '<label for="{}" class="form-label{}">{}{}</label>', field.auto_id, required, field.label, asterisk
        )
    return format_html(
        '<div id="div_{}" class="mb-3">{}{}{}{}</div>',
        field.auto_id, label, _control(field, css, invalid), _errors(field), _help(field),
    )  # fmt: skip
