from django.utils import timezone
from wagtail.documents.forms import BaseDocumentForm


class PreauDocumentForm(BaseDocumentForm):
    """Kind and publication date fall back to their defaults when left out.

    The admin's multiple uploader first validates a form holding only the file, title and
    collection; a required field missing there makes Wagtail park the file as an UploadedFile
    in the public media storage. With defaults, a valid PDF goes straight to private storage.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("kind", "publication_date"):
            if name in self.fields:
                self.fields[name].required = False

    def clean_kind(self):
        return self.cleaned_data.get("kind") or self._meta.model.Kind.OTHER

    def clean_publication_date(self):
        return self.cleaned_data.get("publication_date") or timezone.localdate()
