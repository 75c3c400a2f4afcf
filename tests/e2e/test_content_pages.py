"""Colleagues' pages seen through a phone browser: canteen menus, a tutorial, family-only documents."""

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

SCREENSHOTS = "/tmp/preau-screenshots"


def test_menus_page_shows_this_week_and_next_with_allergens(page, assert_accessible):
    page.goto("/menus/")
    this_week = page.get_by_role("region", name=re.compile("^Cette semaine"))
    next_week = page.get_by_role("region", name=re.compile("^Semaine prochaine"))
    # The demo's current week starts with a lentil salad (mustard, celery), the next with beetroot.
    expect(this_week.get_by_text("Salade de lentilles")).to_be_visible()
    expect(this_week.locator(".menu-day").first).to_contain_text("Allergènes")
    expect(this_week.locator("abbr").first).to_have_attribute("title", re.compile(r"\w"))
    expect(next_week.get_by_text("Betteraves en salade").first).to_be_visible()
    expect(this_week.locator(".menu-day")).to_have_count(4)
    page.screenshot(path=f"{SCREENSHOTS}/menus-phone.png", full_page=True)
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("Semaine suivante")).click()
    expect(page.get_by_role("link", name="Cette semaine")).to_be_visible()
    first_week = page.locator("section.menu-week").first
    expect(first_week.get_by_role("heading", level=2)).to_contain_text("Semaine prochaine")
    expect(first_week.get_by_text("Betteraves en salade").first).to_be_visible()


def test_tutorial_page_has_a_captioned_video_and_numbered_steps(page, assert_accessible):
    page.goto("/tutoriels/")
    page.get_by_role("link", name=re.compile("Activer mon compte")).first.click()
    expect(page).to_have_url(re.compile(r"/tutoriels/activer-mon-compte/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer mon compte")
    video = page.locator("video")
    expect(video).to_have_attribute("controls", "")
    track = video.locator("track[kind=captions]")
    expect(track).to_have_attribute("srclang", "fr")
    # The browser really loads the WebVTT file: its cues become available.
    cues = page.wait_for_function(
        """() => { const t = document.querySelector('video').textTracks[0];
                   t.mode = 'hidden'; return t.cues && t.cues.length; }""")
    assert cues.json_value() > 0
    steps = page.locator("ol.tutorial-steps > li")
    expect(steps).to_have_count(4)
    for image in steps.locator("img").all():
        assert image.get_attribute("alt"), "a step screenshot has no text alternative"
    assert_accessible(page)


def test_family_only_regulation_asks_to_sign_in_then_downloads(page, assert_accessible):
    get_user_model().objects.create_user(email="parent.e2e@example.org", password="un-mot-de-passe-sûr")
    page.goto("/documents-utiles/")
    assert_accessible(page)
    regulation = page.locator("li.card", has_text="Règlement du périscolaire")
    expect(regulation.get_by_role("link", name=re.compile("Règlement du périscolaire"))).to_have_count(0)
    regulation.get_by_role("link", name="se connecter").click()

    expect(page).to_have_url(re.compile(r"/famille/connexion/\?next="))
    assert_accessible(page)
    page.get_by_label("Adresse e-mail").fill("parent.e2e@example.org")
    page.get_by_label("Mot de passe").fill("un-mot-de-passe-sûr")
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(re.compile(r"/documents-utiles/$"))
    link = page.locator("li.card", has_text="Règlement du périscolaire").get_by_role(
        "link", name=re.compile("Règlement du périscolaire"))
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_regulation_address_sends_an_anonymous_visitor_to_the_login_page(page):
    from documents.models import PreauDocument


    regulation = PreauDocument.objects.get(kind=PreauDocument.Kind.REGULATION)
    page.goto(regulation.url)
    expect(page).to_have_url(re.compile(r"/famille/connexion/\?next=.*reglement"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à l’espace famille")
