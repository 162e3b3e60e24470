"""Vietnamese by default, English on request; the shipped translation is complete and compiled."""

import gettext
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_string_has_a_vietnamese_translation():
    catalogue = polib.pofile(str(PO))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_source():
    catalogue = polib.pofile(str(PO))
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if not entry.msgid_plural and compiled.pgettext(entry.msgctxt, entry.msgid) != entry.msgstr
        if entry.msgctxt
    ] + [
        entry.msgid
        for entry in catalogue.translated_entries()
        if not entry.msgid_plural and not entry.msgctxt and compiled.gettext(entry.msgid) != entry.msgstr
    ]
    assert stale == [], "run `make messages` to recompile locale/vi"


@pytest.mark.django_db
def test_the_login_page_is_in_vietnamese_by_default(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html
    assert "Quên mật khẩu?" in html


@pytest.mark.django_db
def test_english_can_be_chosen_from_the_header(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html


@pytest.mark.django_db
def test_the_home_page_shows_the_branch_and_role_in_vietnamese(client, cast, tree):
    client.force_login(cast.commune_clerk)
    html = client.get("/").content.decode()
    assert "Phường Phúc Xá" in html
    assert "Cán bộ nhập liệu" in html


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_browser_asking_for_english_still_gets_vietnamese_until_english_is_chosen(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html
