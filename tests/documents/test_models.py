import pytest
from django.core.exceptions import ValidationError

from documents.models import PreauDocument

pytestmark = pytest.mark.django_db


def test_a_new_document_is_of_kind_other_by_default(make_document):
    assert make_document().kind == PreauDocument.Kind.OTHER


def test_kind_choices_are_the_regulation_receipt_guide_and_other():
    assert PreauDocument.Kind.values == ["reglement", "recepisse", "guide", "autre"]
    assert str(PreauDocument.Kind.REGULATION.label) == "Règlement"


def test_an_unknown_kind_is_refused(make_document):
    document = make_document()
    document.kind = "facture"

    with pytest.raises(ValidationError) as error:
        document.full_clean()

    assert "kind" in error.value.message_dict


def test_version_is_optional_but_limited_to_30_characters(make_document):
    document = make_document(kind=PreauDocument.Kind.REGULATION)
    document.full_clean()  # no version: fine
    document.version = "2026-" + "9" * 30

    with pytest.raises(ValidationError) as error:
        document.full_clean()

    assert "version" in error.value.message_dict


def test_regulation_keeps_its_version(make_document):
    document = make_document(kind=PreauDocument.Kind.REGULATION, version="2026-1")
    document.refresh_from_db()

    assert (document.kind, document.version) == ("reglement", "2026-1")


def test_is_private_follows_the_collection_restriction(make_document, families_only):
    assert make_document(collection=families_only).is_private
    assert not make_document(title="Guide").is_private
