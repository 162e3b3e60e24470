"""Sign-in and session protection: the client address the lockout is keyed on, the lockout
backend, idle sessions and the headers Django does not set by itself."""

from __future__ import annotations

import logging
import time

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends.base import UpdateError
from django.db import OperationalError, connection
from django.dispatch import receiver
from django.http import HttpRequest

from khuyenhoc import background
from khuyenhoc.db import sqlite_busy_timeout

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the person signing in, for the lockout key.

    X-Forwarded-For is believed only when TRUSTED_PROXY_COUNT says how many reverse proxies
    of ours stand in front of the app; each appends the address it saw, so the client is the
    entry that many places from the right. Entries further left are whatever the client sent
    and are ignored: a forged header cannot choose someone else's key. With no trusted
    proxy (or a header shorter than the proxy chain) the socket's address is used."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for every sign-in that comes with a request.

    The sign-in page and the admin's pass the request, so they are always checked. A
    sign-in without one (the test client's login(), a shell) has no client to key a lockout
    on and is left to the next backend instead of failing with an error."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


SESSION_LAST_SEEN_KEY = "_last_seen"


@receiver(user_logged_in)
def _session_starts_now(sender, request, user, **kwargs):
    """Signing in counts as activity, saved with the new session: the requests that follow
    within a minute write nothing (and take the same queries whatever page comes first)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LAST_SEEN_KEY] = int(time.time())


class SessionIdleTimeoutMiddleware:
    """Signs out a person who did nothing for SESSION_IDLE_TIMEOUT seconds; the session
    cookie's own age (SESSION_COOKIE_AGE) bounds a session however busy it is.

    The time of the last request is written at most once a minute, not on every request.
    On SQLite (the embedded mode) a background task may hold the only write lock for minutes
    (an import's apply, khuyenhoc.background), and a request that only notes the time must not
    wait for it: the note is skipped while a task runs, and otherwise written at once, giving
    up after `touch_wait` seconds; a skipped note is taken by a later request."""

    write_interval = 60
    touch_wait = 0.2  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(SESSION_LAST_SEEN_KEY)
            if last_seen is not None and now - int(last_seen) > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
            elif last_seen is None or now - int(last_seen) >= self.write_interval:
                if connection.vendor == "sqlite":
                    self._note_now_on_sqlite(request.session, now, last_seen)
                else:
                    request.session[SESSION_LAST_SEEN_KEY] = now
        return self.get_response(request)

    def _note_now_on_sqlite(self, session, now: int, last_seen) -> None:
        if background.busy():
            return
        modified = session.modified
        session[SESSION_LAST_SEEN_KEY] = now
        try:
            with sqlite_busy_timeout(self.touch_wait):
                session.save()
        except (OperationalError, UpdateError):  # "database is locked" (the db backend calls it UpdateError)
            logger.info("The session's last-seen note is skipped: the database is busy")
            if last_seen is None:
                del session[SESSION_LAST_SEEN_KEY]
            else:
                session[SESSION_LAST_SEEN_KEY] = last_seen
        # Written or given up: nothing for the response to save unless the view changes more.
        session.modified = modified


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: Permissions-Policy and
    Cross-Origin-Resource-Policy."""

    permissions_policy = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
