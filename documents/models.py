from urllib.parse import urlencode

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.documents.models import AbstractDocument, Document
from wagtail.models import CollectionViewRestriction, Page
from wagtail.search import index

from .validators import validate_pdf


class PrivateStorage(LazyObject):
    """storages["private"], looked up when first used (and again after settings change).

    A FileField resolves a callable storage once, at import: without this indirection tests
    overriding STORAGES would still write to the developer's private-media folder.
    """

    def _setup(self):
        self._wrapped = storages["private"]

    def url(self, name):
        # FileSystemStorage falls back to MEDIA_URL when base_url is None; a private file must
        # have no address at all (Wagtail's serve view then streams it after its checks).
        raise NotImplementedError("Private files have no URL.")


_private_storage = PrivateStorage()


@receiver(setting_changed)
def _reset_private_storage(*, setting, **kwargs):
    if setting == "STORAGES":
        _private_storage._wrapped = empty


def private_storage():
    return _private_storage


class PreauDocument(AbstractDocument):
    """A Wagtail document stored outside the public media folder.

    Files are only reachable through Wagtail's serve view, which enforces the collection's
    privacy (e.g. the regulation is restricted to logged-in families).
    """

    class Kind(models.TextChoices):
        REGULATION = "reglement", _("Règlement")
        RECEIPT = "recepisse", _("Récépissé")
        GUIDE = "guide", _("Guide")
        OTHER = "autre", _("Autre")

    file = models.FileField(upload_to="documents", storage=private_storage,
                            validators=[validate_pdf], verbose_name=_("fichier"))
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.OTHER,
                            db_index=True)
    version = models.CharField(_("version"), max_length=30, blank=True,
                               help_text=_("Ex. 2026-1 ; une nouvelle version du règlement "
                                           "demande une nouvelle acceptation aux familles."))
    publication_date = models.DateField(_("date de publication"), default=timezone.localdate)
    description = models.TextField(_("description"), blank=True)
    acceptance_grace_until = models.DateField(
        _("règlement : réservations possibles sans l’accepter jusqu’au"), null=True, blank=True,
        help_text=_("Attention : publier un nouveau règlement demande à chaque famille de l’accepter "
                    "à nouveau, et ses réservations sont bloquées jusque-là. Les familles sont "
                    "prévenues par e-mail. Indiquez une date pour leur laisser le temps : jusqu’à "
                    "elle, celles qui avaient accepté la version précédente réservent encore."))

    admin_form_fields = Document.admin_form_fields + (
        "kind", "version", "publication_date", "acceptance_grace_until", "description",
    )

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        permissions = [("choose_document", "Can choose document")]

    @property
    def is_private(self):
        return bool(self.collection.get_view_restrictions())


class DocumentsPage(Page):
    """The public list of useful documents; private ones are announced but only linked for
    visitors the collection's restrictions accept."""

    GROUPS = [
        (PreauDocument.Kind.REGULATION, _("Règlement")),
        (PreauDocument.Kind.GUIDE, _("Guides")),
        (PreauDocument.Kind.OTHER, _("Autres documents")),
    ]

    intro = models.TextField(_("chapeau"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("listed_document_titles"),
    ]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = _("page des documents utiles")

    def listed_documents(self):
        return listed_documents()

    def listed_document_titles(self):
        return " ".join(f"{doc.title} {doc.description}" for doc in self.listed_documents())

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        documents = listed_documents_for(request)
        context["groups"] = [
            {"kind": kind, "label": label,
             "documents": [doc for doc in documents if doc.kind == kind]}
            for kind, label in self.GROUPS
        ]
        context["has_documents"] = bool(documents)
        context["login_url"] = (f"{settings.WAGTAIL_FRONTEND_LOGIN_URL}?"
                                f"{urlencode({'next': request.get_full_path()})}")
        return context


def listed_documents():
    """The documents a documents page lists, newest first."""
    # Receipts are personal acceptance records: never on a public page.
    kinds = [kind for kind, _label in DocumentsPage.GROUPS]
    return (PreauDocument.objects.filter(kind__in=kinds).select_related("collection")
            .order_by("-publication_date", "-pk"))


def listed_documents_for(request):
    """The listed documents, each marked `restricted` (its collection has view restrictions) and
    `can_download` (this request passes them all): two queries, whatever the number."""
    documents = list(listed_documents())
    restrictions = list(CollectionViewRestriction.objects.select_related("collection"))
    # Restrictions apply to the collection and all its descendants; each is checked once.
    accepted = {restriction.pk: restriction.accept_request(request) for restriction in restrictions}
    for document in documents:
        applying = [restriction for restriction in restrictions
                    if document.collection.path.startswith(restriction.collection.path)]
        document.restricted = bool(applying)
        document.can_download = all(accepted[restriction.pk] for restriction in applying)
    return documents
