from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.documents.models import AbstractDocument, Document

from .validators import validate_pdf


def private_storage():
    return storages["private"]


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

    admin_form_fields = Document.admin_form_fields + (
        "kind", "version", "publication_date", "description",
    )

    class Meta(AbstractDocument.Meta):
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        permissions = [("choose_document", "Can choose document")]

    @property
    def is_private(self):
        return bool(self.collection.get_view_restrictions())
