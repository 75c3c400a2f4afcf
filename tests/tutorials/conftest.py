import io

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images import get_image_model

from home.demo import add_child
from tutorials.demo import ASSETS
from tutorials.models import TutorialIndexPage, TutorialPage, TutorialVideo

MP4 = (ASSETS / "activer-mon-compte.mp4").read_bytes()
VTT = (ASSETS / "activer-mon-compte.vtt").read_bytes()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Embed failures and renditions are cached: no test may see another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def video(db):
    tutorial_video = TutorialVideo(title="Démo")
    tutorial_video.video.save("demo.mp4", ContentFile(MP4), save=False)
    tutorial_video.captions.save("demo.vtt", ContentFile(VTT), save=False)
    tutorial_video.save()
    return tutorial_video


@pytest.fixture
def index_page(demo_site):
    return TutorialIndexPage.objects.get()


@pytest.fixture
def make_image(db):
    def make(title):
        buffer = io.BytesIO()
        PILImage.new("RGB", (320, 200), "white").save(buffer, format="PNG")
        image = get_image_model()(title=title)
        image.file = ImageFile(ContentFile(buffer.getvalue()), name=f"{title}.png")
        image.save()
        return image

    return make


@pytest.fixture
def make_tutorial(index_page, make_image):
    def make(slug, steps=1, **fields):
        stream = [("step", {"title": f"Étape {number}", "text": f"<p>Faites ceci ({number}).</p>",
                            "screenshot": make_image(f"{slug}-{number}"),
                            "screenshot_alt": f"Capture {number}"})
                  for number in range(1, steps + 1)]
        return add_child(index_page, TutorialPage, slug, title=slug.replace("-", " ").title(),
                         summary="Un tutoriel de test.", steps=stream, **fields)

    return make

