import datetime

import pytest
from django.core.files.base import ContentFile
from wagtail.models import Collection, CollectionViewRestriction

from documents.models import PreauDocument
from documents.pdf import simple_pdf


@pytest.fixture
def pdf_bytes():
    return simple_pdf("Règlement", [("Article 1", ["Texte."])])


@pytest.fixture
def families_only(db):
    collection = Collection.get_first_root_node().add_child(name="Réservé aux familles")
    CollectionViewRestriction.objects.create(
        collection=collection, restriction_type=CollectionViewRestriction.LOGIN)
    return collection


@pytest.fixture
def make_document(db, pdf_bytes):
    def make(title="Règlement", collection=None, **fields):
        document = PreauDocument(
            title=title, collection=collection or Collection.get_first_root_node(),
            publication_date=fields.pop("publication_date", datetime.date(2026, 7, 1)),
            **fields,
        )
        document.file.save("reglement.pdf", ContentFile(pdf_bytes), save=False)
        document.file_size = len(pdf_bytes)
        document.save()
        return document

    return make


@pytest.fixture
def family_user(django_user_model):
    return django_user_model.objects.create_user(email="famille@example.org", password="x" * 12)


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="admin@example.org",
                                                       password="x" * 12)
    client.force_login(admin)
    return client
