import pytest
from django.core.management import call_command
from wagtail.images import get_image_model
from wagtail.models import Page

from tutorials.models import TutorialPage, TutorialVideo

pytestmark = pytest.mark.django_db


def counts():
    return (Page.objects.count(), TutorialPage.objects.count(), TutorialVideo.objects.count(),
            get_image_model().objects.count())


def test_demo_builds_the_index_three_tutorials_and_one_captioned_video(index_page):
    assert index_page.url == "/tutoriels/"
    assert list(TutorialPage.objects.child_of(index_page).values_list("title", flat=True)) == [
        "Activer mon compte", "Acheter des tickets", "Réserver la cantine"]
    video = TutorialVideo.objects.get()
    assert video.video.name.endswith(".mp4") and video.captions.name.endswith(".vtt")


def test_loading_the_demo_twice_creates_nothing_new(index_page):
    before = counts()

    call_command("load_demo", stdout=open("/dev/null", "w"))

    assert counts() == before
