import re

import pytest
import requests
from django.core.exceptions import ValidationError
from wagtail.embeds.models import Embed

from home.demo import get_home
from tutorials.models import TutorialIndexPage, TutorialPage

pytestmark = pytest.mark.django_db

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def assert_no_inline_code(html):
    """The CSP forbids inline scripts and style attributes on public pages."""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html


def test_tutorials_index_lists_the_three_demo_tutorials_with_summary_duration_thumbnail(
        client, index_page):
    response = client.get("/tutoriels/")

    html = response.content.decode()
    assert response.status_code == 200
    for title in ("Activer mon compte", "Acheter des tickets", "Réserver la cantine"):
        assert title in html
    assert "Recevoir l’invitation de la mairie" in html
    assert "Durée : 2 minutes" in html
    assert html.count('class="tutorial-thumbnail"') == 3
    assert_no_inline_code(html)


def test_demo_tutorial_plays_its_video_with_french_captions_and_a_transcript(client, index_page):
    page = TutorialPage.objects.get(slug="activer-mon-compte")
    video = page.video

    html = client.get("/tutoriels/activer-mon-compte/").content.decode()

    assert '<video controls preload="metadata">' in html
    assert f'<source src="{video.video_url}" type="video/mp4">' in html
    assert (f'<track kind="captions" srclang="fr" label="Français" default '
            f'src="{video.captions_url}">') in html
    assert "Transcription de la vidéo" in html
    assert "Choisissez un mot de passe d’au moins 12 caractères." in html
    assert_no_inline_code(html)


def test_demo_tutorials_have_three_to_five_illustrated_steps(client, index_page):
    for page in TutorialPage.objects.child_of(index_page):
        html = client.get(page.url).content.decode()
        steps = html.count('class="tutorial-screenshot"')
        assert 3 <= len(page.steps) <= 5
        assert steps == len(page.steps)
        assert 'alt=""' not in html.split("Pas à pas")[1]


def test_portal_link_is_shown_when_set(client, index_page):
    html = client.get("/tutoriels/activer-mon-compte/").content.decode()

    assert '<a class="button" href="/famille/connexion/">Me connecter</a>' in html


def test_embed_falls_back_to_a_plain_link_when_the_network_is_unreachable(
        client, make_tutorial, monkeypatch):
    calls = []

    def unreachable(*args, **kwargs):
        calls.append(args)
        raise requests.ConnectionError("[Errno 101] Network is unreachable")

    monkeypatch.setattr("wagtail.embeds.finders.oembed.requests.get", unreachable)
    page = make_tutorial("video-externe", embed_url=YOUTUBE)

    response = client.get(page.url)
    again = client.get(page.url)

    html = response.content.decode()
    assert response.status_code == again.status_code == 200
    assert f'<a href="{YOUTUBE}">Voir la vidéo sur le site de l’hébergeur</a>' in html
    assert "<iframe" not in html
    assert len(calls) == 1  # the failure is remembered: no timeout on every view


def test_embed_survives_any_provider_error(client, make_tutorial, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("garbled oEmbed answer")

    monkeypatch.setattr("wagtail.embeds.embeds.get_embed", broken)
    page = make_tutorial("video-cassee", embed_url=YOUTUBE)

    response = client.get(page.url)

    assert response.status_code == 200
    assert f'href="{YOUTUBE}"' in response.content.decode()


def test_embed_is_shown_without_inline_style_when_the_provider_answers(client, make_tutorial):
    from wagtail.embeds.embeds import get_embed_hash

    Embed.objects.create(
        hash=get_embed_hash(YOUTUBE), url=YOUTUBE, type="video", width=480, height=270,
        html='<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ" '
             'title="Démo" allowfullscreen></iframe>')
    page = make_tutorial("video-youtube", embed_url=YOUTUBE)

    html = client.get(page.url).content.decode()

    assert '<div class="tutorial-embed"><iframe src="https://www.youtube-nocookie.com' in html
    assert_no_inline_code(html)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"embed_url": YOUTUBE, "video": True}, "embed_url", "pas les deux"),
    ({"embed_url": "https://videos.example.com/x"}, "embed_url", "YouTube, Vimeo ou Dailymotion"),
    ({"portal_url": "https://ailleurs.example.com/", "portal_label": "Ailleurs"}, "portal_url",
     "/famille/"),
    ({"portal_url": "/famille/"}, "portal_label", "texte du lien"),
])
def test_tutorial_refuses_inconsistent_video_or_portal_link(index_page, video, fields, field,
                                                            message):
    if fields.pop("video", False):
        fields["video"] = video
    page = TutorialPage(title="T", slug="t", summary="Résumé", **fields)

    with pytest.raises(ValidationError) as error:
        page.full_clean()

    assert message in " ".join(error.value.message_dict[field])


def test_a_screenshot_without_alt_text_is_refused(make_image):
    from wagtail.blocks.struct_block import StructBlockValidationError

    from tutorials.blocks import StepBlock

    block = StepBlock()
    value = block.to_python({"title": "Étape", "text": "<p>Texte</p>",
                             "screenshot": make_image("capture").pk, "screenshot_alt": " "})

    with pytest.raises(StructBlockValidationError) as error:
        block.clean(value)

    assert "texte alternatif" in str(error.value.block_errors["screenshot_alt"])
    value["screenshot_alt"] = "Écran de connexion"
    block.clean(value)  # now accepted


def test_site_search_finds_tutorials_by_step_text_and_transcript(client, make_tutorial):
    make_tutorial("video-sous-titree", transcript="On voit le pictogramme du cadenas.")

    by_step = client.get("/recherche/", {"q": "attestation"}).content.decode()
    by_transcript = client.get("/recherche/", {"q": "pictogramme"}).content.decode()

    assert "Activer mon compte" in by_step
    assert "Video Sous Titree" in by_transcript
    assert "Réserver la cantine" in client.get("/recherche/", {"q": "vacances"}).content.decode()


def test_only_one_tutorial_index_under_the_home_page(index_page):
    assert TutorialIndexPage.objects.get().url == "/tutoriels/"
    assert not TutorialIndexPage.can_create_at(get_home())
    assert not TutorialPage.can_create_at(get_home())


def test_editors_can_open_the_tutorial_forms_in_the_admin(client, index_page, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="admin@example.org"))
    page = TutorialPage.objects.get(slug="activer-mon-compte")

    add_page = client.get(f"/admin/pages/add/tutorials/tutorialpage/{index_page.pk}/")
    edit_page = client.get(f"/admin/pages/{page.pk}/edit/")
    add_video = client.get("/admin/snippets/tutorials/tutorialvideo/add/")

    assert (add_page.status_code, edit_page.status_code, add_video.status_code) == (200, 200, 200)
    assert 'enctype="multipart/form-data"' in add_video.content.decode()
