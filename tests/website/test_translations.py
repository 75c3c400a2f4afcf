"""French by default, English on request (browser language or the switcher's cookie)."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def nav_labels(html):
    nav = re.search(r'<nav[^>]*class="main-nav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    return [re.sub(r"\s+", " ", label).strip() for label in re.findall(r"<a[^>]*>(.*?)</a>", nav, re.S)]


def test_home_page_is_in_french_by_default(client, demo_site):
    html = client.get("/").content.decode()
    assert 'lang="fr"' in html
    assert nav_labels(html) == ["Menus", "Aide", "Documents", "Contact", "Se connecter"]


def test_browser_asking_for_english_gets_english_navigation(client, demo_site):
    html = client.get("/", headers={"accept-language": "en-GB,en;q=0.8"}).content.decode()
    assert 'lang="en"' in html
    assert nav_labels(html) == ["Menus", "Help", "Documents", "Contact", "Sign in"]
    assert "Skip to content" in html


def test_language_cookie_wins_over_the_browser_language(client, demo_site):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/", headers={"accept-language": "fr"}).content.decode()
    assert nav_labels(html) == ["Menus", "Help", "Documents", "Contact", "Sign in"]


def test_switcher_posts_to_set_language_and_comes_back_to_the_same_page(client, demo_site):
    html = client.get("/contact/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/contact/"})
    assert response.status_code == 302 and response["Location"] == "/contact/"
    assert "Contact us" in client.get("/contact/").content.decode()
    # Back to French: the switcher now offers French.
    html = client.get("/contact/").content.decode()
    assert 'name="language" value="fr"' in html


def test_unknown_language_or_foreign_next_changes_nothing(client, demo_site):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def po_entries(text):
    """(msgid, [msgstr, …]) for each live entry of a .po file, strings joined across lines."""
    for block in text.split("\n\n"):
        fields, current = {}, None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith("msg"):
                current, _, line = line.partition(" ")
                fields[current] = ""
            fields[current] += line.strip()[1:-1]
        if fields.get("msgid"):
            yield fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")]


def test_every_english_message_is_translated_and_compiled():
    po = settings.BASE_DIR / "locale/en/LC_MESSAGES/django.po"
    text = po.read_text()
    entries = list(po_entries(text))
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstrs in entries if not all(msgstrs)]
    assert not untranslated, untranslated[:10]
    assert "#, fuzzy" not in text
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1, "run make messages"
