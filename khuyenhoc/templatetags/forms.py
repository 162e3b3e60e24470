"""`{% load forms %}`: what every portal form carries besides its fields."""

from django import template
from django.utils.html import format_html

from khuyenhoc.form_tokens import FIELD, new_token, posted_token

register = template.Library()


@register.simple_tag(takes_context=True)
def form_token(context) -> str:
    """The hidden one-time token (khuyenhoc.form_tokens): the posted one when a form comes
    back with errors, so that saving it then still counts once; else a new one."""
    request = context.get("request")
    token = (posted_token(request) if request is not None and request.method == "POST" else "") or new_token()
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, token)
