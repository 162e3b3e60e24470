"""One-time form tokens: a form saved once is not saved again by Back and Save, or by a
second press of the button.

Each create form carries a hidden token (`{% form_token %}` of `{% load forms %}`, in the
shared partial templates/partials/form_top.html). When the view has saved the record it
calls `remember(request, url)`: the token is kept in the session with the address of the
record. A POST that comes back with a used token is answered by `already_saved(request)`:
a page saying the form was already saved, with the link, and nothing is created.

The session keeps the last MAX_TOKENS tokens of a person, enough for a day's work.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

FIELD = "form_token"
SESSION_KEY = "_form_tokens"
MAX_TOKENS = 50


def new_token() -> str:
    return secrets.token_urlsafe(16)


def posted_token(request: HttpRequest) -> str:
    """The token a POST carries (clipped: a token is 22 characters)."""
    return str(request.POST.get(FIELD, ""))[:64]


def saved_url(request: HttpRequest) -> str | None:
    """The address of the record already saved with this POST's token, or None."""
    token = posted_token(request)
    if not token:
        return None
    return request.session.get(SESSION_KEY, {}).get(token)


def already_saved(request: HttpRequest) -> HttpResponse | None:
    """For a POST whose token was already used: the page that says so and links to the
    record (status 409, nothing saved). None for any other request."""
    if request.method != "POST":
        return None
    url = saved_url(request)
    if url is None:
        return None
    return TemplateResponse(request, "form_already_saved.html", {"record_url": url}, status=409)


def remember(request: HttpRequest, url: str) -> None:
    """Mark this POST's token as used, for the record saved at `url`."""
    token = posted_token(request)
    if not token:
        return
    used = dict(request.session.get(SESSION_KEY, {}))
    used[token] = url
    while len(used) > MAX_TOKENS:
        used.pop(next(iter(used)))  # the oldest (dicts keep insertion order)
    request.session[SESSION_KEY] = used
