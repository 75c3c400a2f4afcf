from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.search import index

from .models import DocumentsPage, PreauDocument


@receiver([post_save, post_delete], sender=PreauDocument)
def reindex_documents_page(sender, **kwargs):
    """The documents page is found in search by its documents' titles: keep that fresh."""
    for page in DocumentsPage.objects.live():
        index.insert_or_update_object(page)
