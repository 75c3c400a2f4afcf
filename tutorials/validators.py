from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# ISO base media (MP4) has "ftyp" at byte 4; WebM is an EBML document.
VIDEO_SIGNATURES = {".mp4": lambda head: head[4:8] == b"ftyp",
                    ".webm": lambda head: head[:4] == b"\x1a\x45\xdf\xa3"}
DEFAULT_VIDEO_MAX_SIZE = 50 * 1024 * 1024
CAPTIONS_MAX_SIZE = 512 * 1024


def _extension(file):
    name = (getattr(file, "name", "") or "").lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def _head(file, length):
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        return file.read(length)
    finally:
        file.seek(position)


def video_max_size():
    return getattr(settings, "TUTORIAL_VIDEO_MAX_SIZE", DEFAULT_VIDEO_MAX_SIZE)


def validate_video(file):
    """MP4 or WebM only, checked on the content too, and small enough for phones."""
    extension = _extension(file)
    if extension not in VIDEO_SIGNATURES:
        raise ValidationError(_("Seules les vidéos MP4 ou WebM sont acceptées."),
                              code="video_format")
    if file.size > video_max_size():
        raise ValidationError(
            _("La vidéo pèse %(size)s : le maximum est %(max)s. Réduisez sa durée ou sa "
              "résolution et réessayez.") % {"size": filesizeformat(file.size),
                                             "max": filesizeformat(video_max_size())},
            code="video_size",
        )
    if not VIDEO_SIGNATURES[extension](_head(file, 12)):
        raise ValidationError(
            _("Ce fichier n’est pas une vidéo %(format)s valide.")
            % {"format": extension[1:].upper()},
            code="video_format",
        )


def validate_captions(file):
    """WebVTT only: the format browsers read in <track>."""
    if _extension(file) != ".vtt":
        raise ValidationError(_("Les sous-titres doivent être un fichier WebVTT (.vtt)."),
                              code="captions_format")
    if file.size > CAPTIONS_MAX_SIZE:
        raise ValidationError(
            _("Le fichier de sous-titres dépasse %(max)s.")
            % {"max": filesizeformat(CAPTIONS_MAX_SIZE)},
            code="captions_size",
        )
    if not _head(file, 9).removeprefix(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
        raise ValidationError(
            _("Ce fichier n’est pas au format WebVTT : il doit commencer par « WEBVTT »."),
            code="captions_format",
        )
