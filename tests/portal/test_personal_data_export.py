"""A family downloads all its data (RGPD access and portability): the JSON file and the
readable summary, its own family only, in a fixed number of queries, audit-logged."""

import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import (
    AppToken,
    AuditLog,
    Booking,
    SentNotification,
    WaitlistEntry,
)
from portal.services import privacy
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import MONDAY, give_tickets

pytestmark = pytest.mark.django_db

SECTIONS = {
    "export", "foyer", "responsables", "enfants", "personnes_autorisees", "pieces_du_dossier",
    "consentements", "reservations", "liste_d_attente", "absences_signalees", "pointages",
    "porte_monnaie", "mouvements_de_tickets", "dettes_de_tickets", "paiements", "recus",
    "remboursements", "notifications_envoyees", "applications_connectees", "agenda",
}


def download(client):
    response = client.get(reverse("portal:personal_data_download"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="preau-mes-donnees-')
    return json.loads(b"".join(response.streaming_content))


@pytest.fixture
def rich_family_a(family_a_objects, family_a, parent_a):
    """Family A with something in every section."""
    child = family_a_objects["child"]
    service = family_a_objects["report"].service
    Booking.objects.create(child=child, service=service, date=datetime.date(2026, 9, 15), created_by=parent_a)
    WaitlistEntry.objects.create(child=child, service=service, date=datetime.date(2026, 9, 17))
    SentNotification.objects.create(family=family_a, kind="file", key="test-file-1",
                                    subject="Votre dossier est validé", recipients=parent_a.email)
    AppToken.objects.create(user=parent_a, name="Téléphone de Zéphyrine", token_hash="f" * 64)
    family_a.calendar_token = "secret-calendar-token-alpha"
    family_a.save()
    return family_a_objects


def test_the_json_file_has_every_section_with_the_familys_data(client, parent_a, rich_family_a):
    client.force_login(parent_a)
    data = download(client)

    assert set(data) == SECTIONS
    assert data["foyer"]["nom"] == "Famille Alpha"
    assert [g["e_mail"] for g in data["responsables"]] == ["parent.a@example.org"]
    child = data["enfants"][0]
    assert child["prenom"] == "Zéphyrine"
    assert child["allergies_et_regime"] == "Arachide"
    assert child["document_pai"].endswith(".pdf")
    assert data["personnes_autorisees"][0]["nom"] == "Mamie Alpha"
    assert data["pieces_du_dossier"][0]["fichier"] == "assurance.pdf"
    assert data["consentements"]["acceptations_du_reglement"][0]["version"] == "2026-1"
    assert data["consentements"]["photos"] == [{"enfant": f"Zéphyrine {child['nom']}",
                                                "autorise_les_photos": False}]
    assert data["consentements"]["e_mails"]["informations_de_la_mairie"] is True
    assert data["reservations"][0]["jour"] == "2026-09-15"
    # The 17 September 2026 has passed without a place: expired, not « En attente ».
    assert data["liste_d_attente"][0]["etat"] == "Expirée (le jour est passé sans place libre)"
    assert data["absences_signalees"][0]["motif"] == "Fièvre"
    assert data["porte_monnaie"] == [{"type_de_ticket": "Repas", "solde": 2}]
    assert data["mouvements_de_tickets"][0]["tickets"] == 2
    assert data["mouvements_de_tickets"][0]["enfant"] is None  # a purchase is for no child
    assert data["paiements"][0]["montant_centimes"] == 600
    assert data["recus"][0]["numero"].endswith("-000001")
    assert "Votre dossier est validé" in {n["objet"] for n in data["notifications_envoyees"]}
    assert data["applications_connectees"][0]["appareil"] == "Téléphone de Zéphyrine"
    assert data["agenda"] == {"adresse_privee_active": True}


def test_the_json_file_holds_no_secret(client, parent_a, rich_family_a):
    client.force_login(parent_a)
    response = client.get(reverse("portal:personal_data_download"))
    text = b"".join(response.streaming_content).decode()
    assert "secret-calendar-token-alpha" not in text
    assert "f" * 64 not in text
    assert parent_a.password not in text


def test_another_familys_data_is_never_in_the_export(client, parent_b, rich_family_a):
    client.force_login(parent_b)
    data = download(client)
    text = json.dumps(data, ensure_ascii=False)
    assert data["foyer"]["nom"] == "Famille Bravo"
    for secret in ("Zéphyrine", "Famille Alpha", "parent.a@example.org", "Mamie Alpha",
                   "assurance.pdf", "Fièvre", "Votre dossier est validé", "Téléphone de"):
        assert secret not in text
    assert data["reservations"] == [] and data["paiements"] == []


def test_the_summary_page_shows_every_part_and_only_the_callers_family(client, parent_a, parent_b,
                                                                       rich_family_a):
    client.force_login(parent_a)
    page = client.get(reverse("portal:personal_data")).content.decode()
    for expected in ("Zéphyrine", "Arachide", "Mamie Alpha", "assurance.pdf", "2026-1",
                     "septembre 2026", "Fièvre", "Repas : 2", "6,00", "Votre dossier est validé",
                     "Téléphone de Zéphyrine", "Adresse privée d’agenda"):
        assert expected in page, expected
    client.force_login(parent_b)
    page = client.get(reverse("portal:personal_data")).content.decode()
    assert "Famille Bravo" in page
    assert "Zéphyrine" not in page and "Mamie Alpha" not in page


@pytest.mark.parametrize("name", ["portal:personal_data", "portal:personal_data_download"])
def test_a_user_without_a_family_gets_404_and_anonymous_visitors_log_in(client, agent, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(agent)
    assert client.get(reverse(name)).status_code == 404


def test_each_export_is_audit_logged_without_personal_data(client, parent_a, rich_family_a, family_a):
    client.force_login(parent_a)
    download(client)
    client.get(reverse("portal:personal_data"))
    entries = AuditLog.objects.filter(action="family.export").order_by("pk")
    assert [(e.actor, e.family, e.target) for e in entries] == [
        (parent_a, family_a, "json"), (parent_a, family_a, "html")]
    assert all(e.before == {} and e.after == {} for e in entries)


def _queries(client, url, streaming):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("name,streaming", [("portal:personal_data_download", True),
                                            ("portal:personal_data", False)])
def test_the_export_costs_the_same_queries_for_1_and_50_bookings(client, dupont, canteen, meal, name,
                                                                  streaming):
    give_tickets(dupont["family"], meal, 3)
    client.force_login(dupont["user"])
    Booking.objects.create(child=dupont["child"], service=canteen, date=MONDAY)
    url = reverse(name)
    _queries(client, url, streaming)  # warm the session and the caches
    one = _queries(client, url, streaming)
    Booking.objects.bulk_create(Booking(child=dupont["child"], family=dupont["family"], service=canteen,
                                        date=MONDAY + datetime.timedelta(days=d))
                                for d in range(1, 50))
    assert dupont["child"].bookings.count() == 50
    assert _queries(client, url, streaming) == one
    # Pinned: the session, the user, the family, the audit entry, one query per section.
    assert one == (21 if streaming else 19)


def test_the_big_sections_are_read_in_chunks_not_all_at_once(dupont, canteen, monkeypatch):
    Booking.objects.bulk_create(Booking(child=dupont["child"], family=dupont["family"], service=canteen,
                                        date=MONDAY + datetime.timedelta(days=d)) for d in range(5))
    monkeypatch.setattr(privacy, "CHUNK", 2)
    sections = dict(privacy.export_sections(dupont["family"]))
    rows = sections["reservations"]
    assert not isinstance(rows, list)  # a generator: rows are written as they come
    assert len(list(rows)) == 5


def test_a_second_household_exports_the_shared_child_but_only_its_own_bookings(client, parent_b, family_b,
                                                                               rich_family_a):
    child = rich_family_a["child"]
    child.other_family = family_b
    child.save()
    client.force_login(parent_b)
    data = download(client)
    assert "Zéphyrine" in [c["prenom"] for c in data["enfants"]]
    assert data["personnes_autorisees"][0]["nom"] == "Mamie Alpha"  # the shared file
    assert data["reservations"] == [] and data["liste_d_attente"] == []  # Alpha's own
    assert "Famille Alpha" not in json.dumps(data, ensure_ascii=False)


def _export_peak(client):
    """(Python memory peak while the JSON file is produced and read piece by piece, its size)."""
    import tracemalloc

    tracemalloc.start()
    try:
        response = client.get(reverse("portal:personal_data_download"))
        size = sum(len(piece) for piece in response.streaming_content)
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def _book_days(dupont, canteen, start, n):
    Booking.objects.bulk_create(Booking(child=dupont["child"], family=dupont["family"], service=canteen,
                                        date=MONDAY + datetime.timedelta(days=start + d))
                                for d in range(n))


def test_a_family_with_5000_bookings_downloads_in_the_memory_of_1000(client, dupont, canteen):
    client.force_login(dupont["user"])
    _book_days(dupont, canteen, 0, 1000)
    _export_peak(client)  # warm the per-process caches (translations, templates)
    small_peak, small_size = _export_peak(client)
    _book_days(dupont, canteen, 1000, 4000)
    big_peak, big_size = _export_peak(client)
    assert big_size > 4 * small_size  # the bookings are really in the file
    # Rows are read privacy.CHUNK at a time and sent as they are written.
    assert big_peak < 1.5 * small_peak, (f"{small_peak / 2**20:.1f} MiB for 1,000 bookings, "
                                         f"{big_peak / 2**20:.1f} MiB for 5,000")
