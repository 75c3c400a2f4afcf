import mimetypes

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TutorialsConfig(AppConfig):
    name = "tutorials"
    verbose_name = _("Tutoriels")

    def ready(self):
        # Slim images lack /etc/mime.types: storages (S3 uploads, dev media serving) would label
        # the files application/octet-stream and browsers would refuse the captions.
        mimetypes.add_type("video/mp4", ".mp4")
        mimetypes.add_type("video/webm", ".webm")
        mimetypes.add_type("text/vtt", ".vtt")
