import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents.models import DocumentsPage, PreauDocument
from home.demo import get_home

pytestmark = pytest.mark.django_db

Kind = PreauDocument.Kind
PAGE_QUERIES = 8  # site, page route, restrictions, documents, collection rules… (town settings: cached)


@pytest.fixture
def documents_page(demo_site):
    return DocumentsPage.objects.get()


def test_demo_documents_page_is_at_documents_utiles(client, documents_page):
    assert documents_page.get_parent().specific == get_home()
    assert client.get("/documents-utiles/").status_code == 200


def test_anonymous_visitor_sees_the_regulation_announced_without_a_file_link(
        client, documents_page):
    regulation = PreauDocument.objects.get(kind=Kind.REGULATION)

    html = client.get("/documents-utiles/").content.decode()

    assert regulation.title in html
    assert "réservé aux familles connectées" in html
    assert 'href="/famille/connexion/?next=%2Fdocuments-utiles%2F"' in html
    assert regulation.url not in html
    # The public guide keeps its link.
    assert PreauDocument.objects.get(kind=Kind.GUIDE).url in html


def test_logged_in_family_gets_the_regulation_link(client, documents_page, django_user_model):
    client.force_login(django_user_model.objects.create_user(email="f@example.org"))
    regulation = PreauDocument.objects.get(kind=Kind.REGULATION)

    html = client.get("/documents-utiles/").content.decode()

    assert f'href="{regulation.url}"' in html
    assert "se connecter" not in html


def test_documents_are_grouped_by_kind_newest_first_with_version_date_and_size(
        client, documents_page, make_document):
    make_document(title="Guide cantine 2025", kind=Kind.GUIDE, version="3",
                  publication_date=datetime.date(2025, 9, 1))
    make_document(title="Guide garderie 2027", kind=Kind.GUIDE,
                  publication_date=datetime.date(2027, 1, 15))
    make_document(title="Formulaire PAI", kind=Kind.OTHER)
    make_document(title="Récépissé de Camille Martin", kind=Kind.RECEIPT)

    html = client.get("/documents-utiles/").content.decode()

    positions = [html.index(text) for text in (
        "<h2", "Règlement du périscolaire", "Guides", "Guide garderie 2027",
        "Guide du portail famille", "Guide cantine 2025", "Autres documents", "Formulaire PAI")]
    assert positions == sorted(positions)
    assert "version 3" in html and "1 septembre 2025" in html and "Kio" in html
    # Receipts are personal records, never listed.
    assert "Récépissé de Camille Martin" not in html


def test_page_query_count_does_not_grow_with_the_documents(client, documents_page, make_document,
                                                           families_only):
    client.get("/documents-utiles/")
    with CaptureQueriesContext(connection) as few:
        client.get("/documents-utiles/")
    for number in range(6):
        make_document(title=f"Note {number}", collection=families_only if number % 2 else None)
    with CaptureQueriesContext(connection) as many:
        client.get("/documents-utiles/")

    assert len(many) == len(few) == PAGE_QUERIES, [q["sql"] for q in many.captured_queries]


def test_site_search_finds_the_documents_page_by_a_document_title(client, documents_page,
                                                                 make_document):
    assert "Documents utiles" in client.get("/recherche/", {"q": "règlement"}).content.decode()

    make_document(title="Charte de la pause méridienne", kind=Kind.OTHER)

    html = client.get("/recherche/", {"q": "méridienne"}).content.decode()
    assert "Documents utiles" in html


def test_a_second_documents_page_cannot_be_created(documents_page):
    assert not DocumentsPage.can_create_at(get_home())
