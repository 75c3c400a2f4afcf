import posixpath
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.images import get_image_model_string
from wagtail.models import Page
from wagtail.search import index

from .blocks import StepsBlock
from .validators import validate_captions, validate_video

# Only providers allowed by the CSP frame-src (website/settings/base.py) can be embedded.
EMBED_HOSTS = {
    "youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be", "www.youtube-nocookie.com",
    "vimeo.com", "www.vimeo.com", "player.vimeo.com",
    "dailymotion.com", "www.dailymotion.com", "dai.ly",
}
CONTENT_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".vtt": "text/vtt"}
THUMBNAIL_SPEC = "fill-480x270"


def content_type_for(name):
    return CONTENT_TYPES.get(posixpath.splitext(name.lower())[1], "application/octet-stream")


class TutorialVideo(index.Indexed, models.Model):
    """A video file uploaded to the public media storage, served by tutorials.views."""

    title = models.CharField(_("titre"), max_length=255)
    video = models.FileField(_("vidéo (MP4 ou WebM)"), upload_to="tutorials/videos",
                             validators=[validate_video])
    captions = models.FileField(
        _("sous-titres (WebVTT)"), upload_to="tutorials/captions", blank=True,
        validators=[validate_captions],
        help_text=_("Fichier .vtt en français, affiché dans le lecteur."),
    )
    created_at = models.DateTimeField(_("ajoutée le"), auto_now_add=True)

    panels = [FieldPanel("title"), FieldPanel("video"), FieldPanel("captions")]
    search_fields = [index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        verbose_name = _("vidéo de tutoriel")
        verbose_name_plural = _("vidéos de tutoriels")
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def video_url(self):
        return reverse("tutorials:video", args=[self.pk, posixpath.basename(self.video.name)])

    @property
    def captions_url(self):
        if not self.captions:
            return ""
        return reverse("tutorials:captions",
                       args=[self.pk, posixpath.basename(self.captions.name)])

    @property
    def content_type(self):
        return content_type_for(self.video.name)


class TutorialIndexPage(Page):
    intro = models.TextField(_("chapeau"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["tutorials.TutorialPage"]
    max_count = 1

    class Meta:
        verbose_name = _("liste des tutoriels")

    def get_context(self, request, *args, **kwargs):
        from wagtail.images import get_image_model

        context = super().get_context(request, *args, **kwargs)
        renditions = get_image_model().get_rendition_model().objects.filter(
            filter_spec=THUMBNAIL_SPEC)
        context["tutorials"] = (
            TutorialPage.objects.child_of(self).live().public()
            .select_related("thumbnail")
            .prefetch_related(Prefetch("thumbnail__renditions", queryset=renditions,
                                       to_attr="prefetched_renditions"))
        )
        return context


class TutorialPage(Page):
    summary = models.CharField(_("résumé"), max_length=255)
    duration = models.PositiveSmallIntegerField(
        _("durée (minutes)"), null=True, blank=True,
        help_text=_("Temps pour suivre le tutoriel, vidéo comprise."),
    )
    thumbnail = models.ForeignKey(get_image_model_string(), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("vignette"))
    video = models.ForeignKey(TutorialVideo, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="pages", verbose_name=_("vidéo envoyée"))
    embed_url = models.URLField(
        _("ou adresse d’une vidéo YouTube, Vimeo ou Dailymotion"), blank=True,
        help_text=_("Laissez vide si vous avez choisi une vidéo envoyée."),
    )
    transcript = models.TextField(
        _("transcription de la vidéo"), blank=True,
        help_text=_("Le texte de la vidéo, pour qui ne peut ni la voir ni l’entendre."),
    )
    steps = StreamField(StepsBlock(), blank=True, verbose_name=_("étapes"))
    portal_url = models.CharField(
        _("lien vers l’espace famille"), max_length=255, blank=True,
        help_text=_("Adresse de la page du portail concernée, par exemple /famille/."),
    )
    portal_label = models.CharField(_("texte du lien"), max_length=80, blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("duration"),
        FieldPanel("thumbnail"),
        MultiFieldPanel([FieldPanel("video"), FieldPanel("embed_url"), FieldPanel("transcript")],
                        heading=_("Vidéo")),
        FieldPanel("steps"),
        MultiFieldPanel([FieldPanel("portal_url"), FieldPanel("portal_label")],
                        heading=_("Lien vers l’espace famille")),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("transcript"),
        index.SearchField("steps"),
    ]
    parent_page_types = ["tutorials.TutorialIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("tutoriel")
        verbose_name_plural = _("tutoriels")

    def clean(self):
        super().clean()
        errors = {}
        if self.video_id and self.embed_url:
            errors["embed_url"] = _("Choisissez une vidéo envoyée ou une adresse, pas les deux.")
        elif self.embed_url and urlsplit(self.embed_url).hostname not in EMBED_HOSTS:
            errors["embed_url"] = _("Seules les vidéos YouTube, Vimeo ou Dailymotion peuvent "
                                    "être intégrées. Sinon, envoyez le fichier vidéo.")
        if self.portal_url and not self.portal_url.startswith("/famille/"):
            errors["portal_url"] = _("Indiquez une adresse de l’espace famille, qui commence "
                                     "par /famille/.")
        if self.portal_url and not self.portal_label:
            errors["portal_label"] = _("Indiquez le texte du lien.")
        if errors:
            raise ValidationError(errors)
