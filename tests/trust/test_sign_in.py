"""Sign-in and sessions: lockout keyed on user name and client address (forged proxy headers
pick nothing), password rules, sessions that end, and the security headers of every page."""

import datetime
import time

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext, ngettext

from khuyenhoc.security import SESSION_LAST_SEEN_KEY, client_ip

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def vi(message: str) -> str:
    with translation.override("vi"):
        return gettext(message)


def attempt(client, username, password, *, ip="203.0.113.7", forwarded=None):
    extra = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def fail_until_locked(client, username, *, ip="203.0.113.7", forwarded=None, limit=5):
    for _ in range(limit):
        response = attempt(client, username, "sai-mat-khau", ip=ip, forwarded=forwarded)
    return response


def test_five_wrong_passwords_lock_the_user_name_from_that_address_with_a_vietnamese_message(client, cast):
    for _ in range(4):
        response = attempt(client, "clerk_phucxa", "sai-mat-khau")
        assert response.status_code == 200
        assert vi("The user name or password is not right. Check them again: capital and small letters count.") in (
            response.content.decode()
        )
    locked = attempt(client, "clerk_phucxa", "sai-mat-khau")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert vi("Sign-in locked for a while") in page
    assert "30" in page  # minutes to wait
    # Even the right password is refused while locked.
    right = attempt(client, "clerk_phucxa", cast.password)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_stranger_cannot_lock_the_clerk_out_of_her_own_computer(client, cast):
    assert fail_until_locked(client, "clerk_phucxa", ip="198.51.100.66").status_code == 429
    response = attempt(client, "clerk_phucxa", cast.password, ip="203.0.113.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.commune_clerk.pk)


def test_one_locked_user_name_does_not_lock_anyone_else_from_the_same_address(client, cast):
    assert fail_until_locked(client, "clerk_phucxa").status_code == 429
    response = attempt(client, "leader_badinh", cast.password)
    assert response.status_code == 302


def test_without_a_trusted_proxy_a_forged_forwarded_header_picks_no_key(client, cast, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):  # a new forged address each time: the socket's address still counts
        response = attempt(client, "clerk_phucxa", "sai", ip="198.51.100.66", forwarded=f"10.0.0.{n}")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
    # Forging the clerk's own address does not lock her out either.
    assert attempt(client, "clerk_phucxa", cast.password, ip="203.0.113.7").status_code == 302


def test_behind_one_proxy_the_address_it_appended_is_the_key_not_what_the_client_wrote(client, cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # The attacker writes the clerk's address first; the proxy appends the attacker's real one.
    for _ in range(5):
        response = attempt(client, "clerk_phucxa", "sai", ip=proxy, forwarded="203.0.113.7, 198.51.100.66")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
    assert attempt(client, "clerk_phucxa", cast.password, ip=proxy, forwarded="203.0.113.7").status_code == 302


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "1.1.1.1", "192.0.2.1"),
        (1, "10.0.0.2", "1.1.1.1", "1.1.1.1"),
        (1, "10.0.0.2", "9.9.9.9, 1.1.1.1", "1.1.1.1"),
        (2, "10.0.0.3", "9.9.9.9, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (2, "10.0.0.3", "1.1.1.1", "10.0.0.3"),  # shorter than the chain: not from our proxies
        (1, "10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_the_client_address_counts_trusted_proxies_from_the_right(settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(RequestFactory().get("/", **extra)) == expected


def test_the_lockout_ends_after_the_cool_off_and_a_good_sign_in_clears_the_count(client, cast, settings):
    assert fail_until_locked(client, "clerk_phucxa").status_code == 429
    AccessAttempt.objects.update(attempt_time=datetime.datetime.now(datetime.UTC) - settings.AXES_COOLOFF_TIME * 2)
    assert attempt(client, "clerk_phucxa", cast.password).status_code == 302
    assert not AccessAttempt.objects.filter(username="clerk_phucxa").exists()


def test_a_short_or_common_password_is_refused_with_a_vietnamese_reason(client_for, cast):
    client = client_for(cast.commune_clerk)
    with translation.override("vi"):
        too_short = (
            ngettext(
                "This password is too short. It must contain at least %d character.",
                "This password is too short. It must contain at least %d characters.",
                10,
            )
            % 10
        )
    for bad, reason in [("abc12", too_short), ("1234567890", vi("This password is too common."))]:
        response = client.post(
            "/accounts/password_change/",
            {"old_password": cast.password, "new_password1": bad, "new_password2": bad},
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert reason in page
    cast.commune_clerk.refresh_from_db()
    assert cast.commune_clerk.check_password(cast.password)


def test_a_session_left_idle_ends_and_the_next_page_asks_to_sign_in_again(client, cast, settings):
    assert attempt(client, "clerk_phucxa", cast.password).status_code == 302
    assert client.get("/registry/members/").status_code == 200
    session = client.session
    session[SESSION_LAST_SEEN_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT - 5
    session.save()
    response = client.get("/registry/members/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_a_busy_session_stays_and_its_cookie_ends_with_the_browser_or_the_maximum_age(client, cast, settings):
    response = attempt(client, "clerk_phucxa", cast.password)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert not cookie["max-age"]  # ends when the browser closes
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert 300 <= client.session.get_expiry_age() <= settings.SESSION_COOKIE_AGE <= 12 * 3600
    session = client.session
    session[SESSION_LAST_SEEN_KEY] = int(time.time()) - settings.SESSION_IDLE_TIMEOUT + 30
    session.save()
    assert client.get("/registry/members/").status_code == 200


def test_every_page_carries_a_strict_content_security_policy_and_the_secure_headers(client_for, cast):
    client = client_for(cast.commune_clerk)
    for url in ["/accounts/login/", "/registry/members/", "/funds/", "/plans/dashboard/", "/admin/login/"]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        policy = response["Content-Security-Policy"]
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives["script-src"] == ["'self'"], url
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


def test_no_page_template_holds_an_inline_script_handler_or_style():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    pattern = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+=\"|\sstyle=\"|javascript:")
    for template in root.glob("**/templates/**/*.html"):
        if any(part in {".venv", "node_modules"} for part in template.parts):
            continue
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{template.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
