import pathlib

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tutorials.models import TutorialVideo
from tutorials.validators import validate_captions, validate_video

from .conftest import MP4, VTT

pytestmark = pytest.mark.django_db

WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


def body(response):
    return b"".join(response.streaming_content)


def test_demo_video_is_a_small_real_mp4_with_french_webvtt_captions():
    assert MP4[4:8] == b"ftyp" and len(MP4) < 200 * 1024
    assert VTT.startswith(b"WEBVTT") and "Complétez votre dossier".encode() in VTT


def test_video_is_served_whole_with_its_content_type_and_range_support(client, video):
    response = client.get(video.video_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(MP4))
    assert body(response) == MP4


def test_video_answers_byte_ranges_as_phone_players_require(client, video):
    response = client.get(video.video_url, headers={"Range": "bytes=100-199"})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(MP4)}"
    assert body(response) == MP4[100:200]
    tail = client.get(video.video_url, headers={"Range": "bytes=-10"})
    assert body(tail) == MP4[-10:]


def test_video_refuses_a_range_beyond_the_end(client, video):
    response = client.get(video.video_url, headers={"Range": f"bytes={len(MP4)}-"})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(MP4)}"


def test_a_garbled_range_header_gets_the_whole_file(client, video):
    response = client.get(video.video_url, headers={"Range": "octets=n'importe quoi"})

    assert response.status_code == 200
    assert body(response) == MP4


def test_captions_are_served_as_webvtt(client, video):
    response = client.get(video.captions_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert body(response) == VTT


@pytest.mark.parametrize("suffix", ["autre.mp4", "sous-titres/autre.vtt"])
def test_a_wrong_file_name_is_not_found(client, video, suffix):
    assert client.get(f"/videos/{video.pk}/{suffix}").status_code == 404


def test_unknown_video_is_not_found(client, db):
    assert client.get("/videos/999/demo.mp4").status_code == 404


def test_videos_are_public_files_under_media_root(video):
    path = pathlib.Path(video.video.path)

    assert path.is_relative_to(settings.MEDIA_ROOT)
    assert not path.is_relative_to(settings.PRIVATE_MEDIA_ROOT)


@pytest.mark.parametrize(("name", "content"), [
    ("film.mp4", MP4), ("film.webm", WEBM_HEAD), ("FILM.MP4", MP4),
])
def test_mp4_and_webm_videos_are_accepted(name, content):
    validate_video(SimpleUploadedFile(name, content))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("film.avi", MP4, "Seules les vidéos MP4 ou WebM sont acceptées."),
    ("film.mp4", b"GIF89a" + b"\x00" * 20, "n’est pas une vidéo MP4 valide"),
    ("film.webm", MP4, "n’est pas une vidéo WEBM valide"),
])
def test_other_videos_are_refused_with_a_french_message(name, content, message):
    with pytest.raises(ValidationError) as error:
        validate_video(SimpleUploadedFile(name, content))

    assert message in error.value.messages[0]


def test_a_video_over_the_size_limit_is_refused(settings):
    settings.TUTORIAL_VIDEO_MAX_SIZE = 10 * 1024

    with pytest.raises(ValidationError) as error:
        validate_video(SimpleUploadedFile("film.mp4", MP4))

    assert "le maximum est 10,0\xa0Kio" in error.value.messages[0]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("sous-titres.srt", b"1\n00:00:00,000 --> 00:00:01,000\nBonjour\n", "WebVTT (.vtt)"),
    ("sous-titres.vtt", b"1\n00:00:00.000 --> 00:00:01.000\nBonjour\n", "commencer par"),
])
def test_captions_must_be_webvtt(name, content, message):
    with pytest.raises(ValidationError) as error:
        validate_captions(SimpleUploadedFile(name, content))

    assert message in error.value.messages[0]


def test_webvtt_captions_with_a_byte_order_mark_are_accepted():
    validate_captions(SimpleUploadedFile("sous-titres.vtt", b"\xef\xbb\xbf" + VTT))


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(email="admin@example.org"))
    return client


ADD_URL = "/admin/snippets/tutorials/tutorialvideo/add/"


def stored_videos():
    folder = pathlib.Path(settings.MEDIA_ROOT) / "tutorials"
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_admin_refuses_a_non_video_upload_and_stores_nothing(admin_client):
    response = admin_client.post(ADD_URL, {
        "title": "Mauvais fichier",
        "video": SimpleUploadedFile("film.mp4", b"%PDF-1.4 pas une video"),
        "captions": SimpleUploadedFile("film.srt", b"1\n"),
    })

    html = response.content.decode()
    assert response.status_code == 200
    assert "n’est pas une vidéo MP4 valide" in html
    assert "WebVTT (.vtt)" in html
    assert TutorialVideo.objects.count() == 0
    assert stored_videos() == []


def test_admin_accepts_an_mp4_with_captions(admin_client):
    response = admin_client.post(ADD_URL, {
        "title": "Acheter des tickets",
        "video": SimpleUploadedFile("tickets.mp4", MP4),
        "captions": SimpleUploadedFile("tickets.vtt", VTT),
    })

    assert response.status_code == 302
    video = TutorialVideo.objects.get()
    assert video.video.read() == MP4 and video.captions.read() == VTT
