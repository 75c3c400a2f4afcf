"""The school-year rollover: the preview is exactly what apply does, a second run changes
nothing, CM2 pupils leave, yearly pieces are asked again, and a family whose file is not renewed
cannot book the new year's days (grid and click say why) while the current year goes on."""

import datetime
import io
import socket

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from documents.demo import add_document
from documents.models import PreauDocument
from portal.models import (
    AuditLog,
    Booking,
    Child,
    Closure,
    FileItem,
    FileRequirement,
    OutgoingEmail,
    SchoolYear,
    SentNotification,
    Service,
)
from portal.rawsql import children_of_guardian
from portal.services import dossier, rollover
from portal.services.booking import BookingRefused, book_day
from portal.services.deadlines import PARIS
from portal.services.planning_states import day_states
from tests.portal.conftest import PDF_BYTES, pdf_upload
from tests.portal.fixtures_mail import *  # noqa: F403
from tests.portal.fixtures_mail import BASE
from tests.portal.fixtures_planning import *  # noqa: F403
from tests.portal.fixtures_planning import give_tickets, make_family

pytestmark = pytest.mark.django_db

# Mid-June of the 2026-2027 school year: the town prepares the next one.
NOW = datetime.datetime(2027, 6, 14, 8, 0, tzinfo=PARIS)
CURRENT_DAY = datetime.date(2027, 6, 21)  # a Monday of the current year
NEXT_DAY = datetime.date(2027, 9, 6)  # a Monday of 2027-2028
NEW_YEAR = ("2027-2028", datetime.date(2027, 9, 1), datetime.date(2028, 7, 3), "B")


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def town(school, canteen, agent, meal, django_capture_on_commit_callbacks):
    """2026-2027 with a yearly insurance and a family-book copy kept from year to year; the
    Duponts (Léa in CP, Hugo in CM2) have a complete file and a booking in June; the Martins
    (Tom, class « CE1/CE2 », not in the map). The 2027 regulation is published with a grace
    period to the end of the year, so June goes on."""
    year = SchoolYear.objects.create(name="2026-2027", start=datetime.date(2026, 9, 1),
                                     end=datetime.date(2027, 7, 3))
    insurance = FileRequirement.objects.create(school_year=year, name="Attestation d’assurance",
                                               sort_order=1)
    family_book = FileRequirement.objects.create(school_year=year, name="Livret de famille",
                                                 sort_order=2, renew_yearly=False)
    FileRequirement.objects.create(school_year=year, name="Règlement", sort_order=3,
                                   kind=FileRequirement.Kind.REGULATION)
    add_document("Règlement 2026", "reglement-2026.pdf", PDF_BYTES,
                 kind=PreauDocument.Kind.REGULATION, version="2026-1",
                 publication_date=datetime.date(2026, 6, 1))
    user, family, (lea, hugo) = make_family("Dupont", "dupont@example.org", school,
                                            children=("Léa", "Hugo"))
    Child.objects.filter(pk=lea.pk).update(school_class="CP")
    Child.objects.filter(pk=hugo.pk).update(school_class="cm2")
    for requirement in (insurance, family_book):
        item = dossier.submit_file(family, requirement, pdf_upload(), by=user)
        dossier.accept_item(item, by=agent)
    dossier.accept_regulation(family, by=user)
    assert dossier.bookings_open(family)
    give_tickets(family, meal, 5)
    june = book_day(lea, canteen, CURRENT_DAY, by=user, now=NOW)
    m_user, martin, (tom,) = make_family("Martin", "martin@example.org", school, children=("Tom",))
    Child.objects.filter(pk=tom.pk).update(school_class="CE1/CE2")
    add_document("Règlement 2027", "reglement-2027.pdf", PDF_BYTES,
                 kind=PreauDocument.Kind.REGULATION, version="2027-1",
                 publication_date=datetime.date(2027, 6, 10),
                 acceptance_grace_until=datetime.date(2027, 7, 3))
    mail.outbox.clear()
    return {"year": year, "user": user, "family": family, "lea": lea, "hugo": hugo, "tom": tom,
            "june": june, "insurance": insurance, "family_book": family_book, "martin": martin}


def state_of_everything():
    """What a rollover may change, to compare before and after a run."""
    return {
        "years": sorted(SchoolYear.objects.values_list("name", "start", "end")),
        "closures": sorted(Closure.objects.values_list("kind", "reason", "start", "end")),
        "requirements": sorted(FileRequirement.objects.values_list("school_year__name", "name",
                                                                   "renew_yearly")),
        "items": sorted(FileItem.objects.values_list("family_id", "requirement__school_year__name",
                                                     "requirement__name", "state", "file")),
        "children": sorted(Child.objects.values_list("pk", "school_class", "class_year__name", "leaves_on")),
        "services": sorted(Service.objects.values_list("name", "start", "end")),
        "bookings": sorted(Booking.objects.values_list("pk", "status")),
        "audit": AuditLog.objects.count(),
        "mails": len(mail.outbox),
    }


def run(agent, capture):
    with capture(execute=True):
        return rollover.apply(*NEW_YEAR, by=agent)


def test_the_preview_is_exactly_what_apply_does(town, agent, canteen, django_capture_on_commit_callbacks):
    before = state_of_everything()
    plan = rollover.preview(*NEW_YEAR)
    assert state_of_everything() == before, "the preview writes nothing"
    assert run(agent, django_capture_on_commit_callbacks) == plan

    year = SchoolYear.objects.get(name="2027-2028")
    assert (year.start, year.end) == (datetime.date(2027, 9, 1), datetime.date(2028, 7, 3))
    # The zone's holidays of the new year, each listed in the preview, each created.
    created = list(Closure.objects.filter(start__gte=year.start).values_list("reason", "start", "end"))
    assert sorted(created) == sorted(plan.closures)
    toussaint = ("Vacances de la Toussaint", datetime.date(2027, 10, 23), datetime.date(2027, 11, 7))
    assert toussaint in plan.closures
    canteen.refresh_from_db()
    assert plan.services == [("Cantine", datetime.date(2027, 7, 3))] and canteen.end == year.end
    assert sorted(year.file_requirements.values_list("name", "renew_yearly")) == sorted(plan.requirements)
    assert plan.to_renew == {"Attestation d’assurance": 1} and plan.carried == {"Livret de famille": 1}
    assert FileItem.objects.filter(requirement__school_year=year, state=FileItem.State.RENEW).count() == 1
    moved = {m.child_id: (m.from_class, m.to_class, m.leaving) for m in plan.moves}
    assert moved == {town["lea"].pk: ("CP", "CE1", False), town["hugo"].pk: ("cm2", "", True)}
    for child_id, (_old, new, leaving) in moved.items():
        child = Child.objects.get(pk=child_id)
        assert child.class_year == year and (child.leaves_on is not None) == leaving
        assert leaving or child.school_class == new
    assert [m.child_id for m in plan.unknown] == [town["tom"].pk]
    assert plan.regulation == "Règlement 2027 (2027-1)" and plan.families_to_accept == 2
    # The audit log keeps the action and its counts.
    entry = AuditLog.objects.get(action="year.rollover")
    assert entry.actor == agent and entry.target == "2027-2028"
    assert entry.after == plan.summary()
    # Then the worker asked the two households to renew their file, and said so in the log.
    assert AuditLog.objects.get(action="year.renewal").after == {"families": 2, "sent": 2}
    assert entry.after["leaving"] == 1 and entry.after["moved"] == 1


def test_running_it_twice_changes_nothing_more(town, agent, django_capture_on_commit_callbacks):
    run(agent, django_capture_on_commit_callbacks)
    after_first = state_of_everything()
    second_preview = rollover.preview(*NEW_YEAR)
    assert second_preview.is_empty and not second_preview.moves
    assert run(agent, django_capture_on_commit_callbacks).is_empty
    assert state_of_everything() == after_first
    # A child the family adds afterwards, already in its new class, is not moved by a third run.
    Child.objects.create(family=town["family"], first_name="Zoé", last_name="Dupont",
                         school=town["lea"].school, birth_date=datetime.date(2021, 5, 1), school_class="MS")
    assert rollover.preview(*NEW_YEAR).moves == []


def test_a_cm2_pupil_leaves_and_no_day_of_the_new_year_is_offered_to_him(
        town, agent, canteen, django_capture_on_commit_callbacks):
    plan = rollover.preview(*NEW_YEAR)
    assert [(m.child, m.leaving) for m in plan.leaving] == [("Hugo Dupont", True)]
    assert ("École Jules-Ferry", "cm2", "", True, ["Hugo Dupont"]) in plan.move_groups()
    run(agent, django_capture_on_commit_callbacks)
    hugo = Child.objects.get(pk=town["hugo"].pk)
    assert hugo.leaves_on == datetime.date(2027, 9, 1) and hugo.school_class == "cm2"
    children = [c for c in children_of_guardian(town["user"].pk) if c.pk == hugo.pk]
    cells = day_states(children, [CURRENT_DAY, NEXT_DAY], now=NOW).rows[0].cells
    assert cells[(canteen.pk, NEXT_DAY)].state == "not_offered"
    assert cells[(canteen.pk, CURRENT_DAY)].state == "available"  # June goes on


def test_yearly_pieces_are_asked_again_and_others_kept(town, agent, client,
                                                     django_capture_on_commit_callbacks):
    run(agent, django_capture_on_commit_callbacks)
    year = SchoolYear.objects.get(name="2027-2028")
    insurance = FileItem.objects.get(requirement__school_year=year,
                                     requirement__name="Attestation d’assurance")
    kept = FileItem.objects.get(requirement__school_year=year, requirement__name="Livret de famille")
    assert insurance.state == FileItem.State.RENEW and not insurance.file
    last_year = FileItem.objects.get(requirement=town["family_book"])
    assert kept.state == FileItem.State.ACCEPTED and kept.file.name == last_year.file.name
    client.force_login(town["user"])
    page = client.get(reverse("portal:dossier")).content.decode()
    assert "Dossier 2027-2028" in page and "À renouveler" in page
    # Renewing the yearly piece does not delete last year's family-book file they share.
    response = client.post(reverse("portal:file_upload", args=[insurance.requirement_id]),
                           {"file": pdf_upload()})
    assert response.status_code == 302
    insurance.refresh_from_db()
    assert insurance.state == FileItem.State.SENT
    assert kept.file.storage.exists(kept.file.name)


def test_a_family_not_renewed_cannot_book_the_new_year_and_is_told_why(
        town, agent, client, canteen, django_capture_on_commit_callbacks):
    run(agent, django_capture_on_commit_callbacks)
    client.force_login(town["user"])
    grid = client.get(reverse("portal:planning") + "?mois=2027-09").content.decode()
    assert "Dossier à renouveler pour l’année" in grid and "2027-2028" in grid
    assert "Les jours de l’année 2027-2028 s’ouvrent quand votre dossier 2027-2028 est renouvelé" in grid
    home = client.get(reverse("portal:dashboard")).content.decode()
    assert "Pour réserver l’année 2027-2028, renvoyez : Attestation d’assurance." in home
    assert f'value="{town["lea"].pk}:{canteen.pk}:{NEXT_DAY.isoformat()}"' not in grid
    with pytest.raises(BookingRefused) as refused:
        book_day(town["lea"], canteen, NEXT_DAY, by=town["user"], now=NOW)
    assert refused.value.code == "not_renewed" and "2027-2028" in refused.value.message
    response = client.post(reverse("portal:planning_act"), {
        "book": f"{town['lea'].pk}:{canteen.pk}:{NEXT_DAY.isoformat()}", "scope": "family",
        "mois": "2027-09"}, follow=True)
    assert "pas encore renouvelé pour l’année 2027-2028" in response.content.decode()
    assert not Booking.objects.filter(date=NEXT_DAY).exists()

    # Renewed (the insurance sent again, the 2027 regulation accepted): September opens.
    year = SchoolYear.objects.get(name="2027-2028")
    dossier.submit_file(town["family"], year.file_requirements.get(name="Attestation d’assurance"),
                        pdf_upload(), by=town["user"])
    with pytest.raises(BookingRefused):  # the 2027 regulation is still to accept
        book_day(town["lea"], canteen, NEXT_DAY, by=town["user"], now=NOW)
    dossier.accept_regulation(town["family"], by=town["user"])
    grid = client.get(reverse("portal:planning") + "?mois=2027-09").content.decode()
    assert f'value="{town["lea"].pk}:{canteen.pk}:{NEXT_DAY.isoformat()}"' in grid
    assert "votre dossier 2027-2028 est renouvelé" not in grid
    assert "renvoyez : Attestation" not in client.get(reverse("portal:dashboard")).content.decode()
    assert book_day(town["lea"], canteen, NEXT_DAY, by=town["user"], now=NOW).date == NEXT_DAY


def test_the_current_year_is_untouched(town, agent, client, canteen, django_capture_on_commit_callbacks):
    bookings = list(Booking.objects.values_list("pk", "date", "status"))
    run(agent, django_capture_on_commit_callbacks)
    assert list(Booking.objects.values_list("pk", "date", "status")) == bookings
    # Not renewed, the Duponts still book the rest of June.
    client.force_login(town["user"])
    grid = client.get(reverse("portal:planning") + "?mois=2027-06").content.decode()
    day = CURRENT_DAY + datetime.timedelta(days=1)
    assert f'value="{town["lea"].pk}:{canteen.pk}:{day.isoformat()}"' in grid
    assert book_day(town["lea"], canteen, day, by=town["user"], now=NOW).date == day


def test_the_families_are_asked_to_accept_the_new_regulation_in_one_message_per_rollover(
        town, agent, school, django_capture_on_commit_callbacks):
    """The regulation was not announced yet: the Duponts read it in their renewal message, not in
    a second e-mail; the Petits, whose only child leaves, get the announcement alone."""
    user, petit, (paul,) = make_family("Petit", "petit@example.org", school, children=("Paul",))
    Child.objects.filter(pk=paul.pk).update(school_class="CM2")
    accept_the_2026_regulation(petit, user)
    run(agent, django_capture_on_commit_callbacks)
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert sent == [("dupont@example.org", "Année 2027-2028 : renouvelez votre dossier pour réserver"),
                    ("martin@example.org", "Année 2027-2028 : renouvelez votre dossier pour réserver"),
                    ("petit@example.org", "Un nouveau règlement du périscolaire est à accepter")]
    dupont = next(m for m in mail.outbox if m.to == ["dupont@example.org"])
    assert "Règlement à accepter : Règlement 2027 (version 2027-1)" in dupont.body
    assert AuditLog.objects.get(action="regulation.announce").after["families"] == 1


def accept_the_2026_regulation(family, user):
    """The family accepted the 2026 regulation, before the 2027 one was published."""
    regulation = PreauDocument.objects.get(version="2026-1")
    family.regulation_acceptances.create(accepted_by=user, document=regulation,
                                         document_title=regulation.title, version=regulation.version)


# The renewal request: one e-mail per household ------------------------------------------------

def message_to(address):
    messages = [m for m in mail.outbox if m.to == [address]]
    assert len(messages) == 1, [m.to for m in mail.outbox]
    return messages[0]


def test_each_household_is_told_once_what_to_renew_per_child_with_the_deadline_and_a_link_to_its_file(
        town, agent, client, django_capture_on_commit_callbacks):
    run(agent, django_capture_on_commit_callbacks)
    year = SchoolYear.objects.get(name="2027-2028")
    dupont = message_to("dupont@example.org").body
    assert "Léa : en CE1 à la rentrée" in dupont
    assert "Hugo quitte l’école à la rentrée" in dupont
    assert "– Attestation d’assurance : à renouveler" in dupont
    assert "Livret de famille" not in dupont  # accepted last year, kept
    assert "Règlement à accepter : Règlement 2027 (version 2027-1)" in dupont
    assert "avant la rentrée, le mercredi 1er septembre 2027" in dupont
    link = f"{BASE}{reverse('portal:dossier')}#annee-{year.pk}"
    assert f"Votre dossier : {link}" in dupont
    # Tom's class is not in the map: no class announced; nothing sent, the Martins provide both.
    martin = message_to("martin@example.org").body
    assert "– Tom\n" in martin and "Tom :" not in martin
    assert "– Attestation d’assurance : à fournir" in martin and "– Livret de famille : à fournir" in martin
    assert len(mail.outbox) == 2
    # Recorded in each family's notification history, as a file message.
    renewals = SentNotification.objects.filter(kind="file", key__startswith="renewal:")
    assert sorted(renewals.values_list("key", flat=True)) == sorted(
        f"renewal:{year.pk}:{town[f].pk}" for f in ("family", "martin"))
    # The link lands on the file's section for that year, which lists the piece to renew.
    client.force_login(town["user"])
    page = client.get(link.removeprefix(BASE).split("#")[0]).content.decode()
    assert f'id="annee-{year.pk}"' in page and "À renouveler" in page


def test_a_household_with_nothing_to_renew_or_no_child_staying_gets_no_message(
        town, agent, school, django_capture_on_commit_callbacks):
    """Every piece kept from year to year and the regulation accepted: the Duponts' file of the
    new year is complete at once. The Petits' only child leaves for collège."""
    town["insurance"].renew_yearly = False
    town["insurance"].save()
    dossier.accept_regulation(town["family"], by=town["user"])
    user, petit, (paul,) = make_family("Petit", "petit@example.org", school, children=("Paul",))
    Child.objects.filter(pk=paul.pk).update(school_class="CM2")
    run(agent, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["martin@example.org"]]
    assert AuditLog.objects.get(action="year.renewal").after == {"families": 1, "sent": 1}
    year = SchoolYear.objects.get(name="2027-2028")
    assert dossier.bookings_open(town["family"], today=NEXT_DAY)
    assert [r.family for r in dossier.renewal_requests(year)] == [town["martin"]]


def test_a_second_run_sends_nothing_more(town, agent, django_capture_on_commit_callbacks):
    run(agent, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert run(agent, django_capture_on_commit_callbacks).is_empty
    assert rollover.send_renewal_requests.call() == 0  # the hourly run: nothing pending
    # Even asked again directly, the key holds.
    year = SchoolYear.objects.get(name="2027-2028")
    with django_capture_on_commit_callbacks(execute=True):
        asked, sent = dossier.ask_to_renew(year)
    assert asked == {town["family"].pk, town["martin"].pk} and sent == 0
    assert len(mail.outbox) == 2
    assert SentNotification.objects.filter(kind="file", key__startswith="renewal:").count() == 2


def test_the_message_is_sent_even_to_a_family_that_switched_file_e_mails_off(
        town, agent, django_capture_on_commit_callbacks):
    town["family"].email_file = False
    town["family"].save()
    run(agent, django_capture_on_commit_callbacks)
    assert "Attestation d’assurance : à renouveler" in message_to("dupont@example.org").body


def test_the_second_household_of_a_child_is_asked_for_its_own_file(
        town, agent, django_capture_on_commit_callbacks):
    user, durand, _kids = make_family("Durand", "durand@example.org", town["lea"].school, children=())
    Child.objects.filter(pk=town["lea"].pk).update(other_family=durand)
    run(agent, django_capture_on_commit_callbacks)
    body = message_to("durand@example.org").body
    assert "Léa : en CE1 à la rentrée" in body and "Hugo" not in body
    assert "– Attestation d’assurance : à fournir" in body
    assert "Léa : en CE1 à la rentrée" in message_to("dupont@example.org").body




def test_a_new_year_that_overlaps_the_current_one_is_refused(town):
    with pytest.raises(rollover.RolloverError, match="doit suivre la fin"):
        rollover.preview("2027-2028", datetime.date(2027, 6, 1), datetime.date(2028, 7, 3), "B")


def test_the_class_map_reads_arrows_and_says_which_line_it_cannot_read():
    assert rollover.parse_class_map("cp → CE1\nCM2 →\nGS -> CP") == {"CP": "CE1", "CM2": "", "GS": "CP"}
    with pytest.raises(rollover.RolloverError, match="Ligne 2"):
        rollover.parse_class_map("CP → CE1\nCE1 CE2")


def test_the_suggested_year_follows_the_zone_s_summer_holidays(town):
    assert rollover.suggested_year("B", town["year"]) == NEW_YEAR[:3]


# The agent's assistant ---------------------------------------------------------------------------

ROLLOVER_URL = reverse("portal_school_years:rollover")
# The session and user, the form's school years, the plan (years, closures, bookings on them,
# services, requirements and pieces, schools and children, regulation and families), the class
# maps shown, the last renewal e-mails' log entry.
PREVIEW_QUERIES = 25
FORM = {"name": "2027-2028", "start": "2027-09-01", "end": "2028-07-03", "zone": "B"}


@pytest.fixture
def agent_client(client, db):
    from tests.factories import make_agent

    client.force_login(make_agent("agent.rentree@example.org"))
    return client


def test_the_assistant_suggests_the_next_year_and_previews_without_writing(town, agent_client):
    page = agent_client.get(ROLLOVER_URL).content.decode()
    assert 'value="2027-2028"' in page and 'value="2027-09-01"' in page and 'value="2028-07-03"' in page
    before = state_of_everything()
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).content.decode()
    assert state_of_everything() == before
    assert "Aperçu : de 2026-2027 à 2027-2028" in page
    assert "Quitte l’école" in page and "Hugo Dupont" in page and "Léa Dupont" in page
    assert "CE1/CE2" in page and "Tom Martin" in page  # unknown class, left as it is
    assert "« Attestation d’assurance » : 1 famille devra la renvoyer" in page
    assert 'id="rollover-apply"' in page


def test_applying_from_the_preview_does_what_it_showed(town, agent_client,
                                                       django_capture_on_commit_callbacks):
    plan = rollover.preview(*NEW_YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(ROLLOVER_URL, {**FORM, "action": "apply",
                                                    "fingerprint": plan.fingerprint()}, follow=True)
    page = response.content.decode()
    assert "Année 2027-2028 prête" in page and "1 départ(s)" in page
    assert Child.objects.get(pk=town["lea"].pk).school_class == "CE1"
    # The worker sent the renewal requests after the commit; the assistant's page says so.
    page = agent_client.get(ROLLOVER_URL).content.decode()
    assert "un e-mail a été écrit pour 2 familles" in page and "Tous ces e-mails sont partis." in page
    # Shown again, the preview says there is nothing left to do, and offers no apply button.
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).content.decode()
    assert "Tout est déjà fait" in page and 'id="rollover-apply"' not in page


def test_a_change_since_the_preview_applies_nothing_and_shows_the_new_preview(town, agent_client, school):
    plan = rollover.preview(*NEW_YEAR)
    Child.objects.create(family=town["martin"], first_name="Jade", last_name="Martin", school=school,
                         birth_date=datetime.date(2020, 2, 2), school_class="GS")
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "apply", "fingerprint": plan.fingerprint()},
                             follow=True).content.decode()
    assert "L’aperçu a changé depuis que vous l’avez vu" in page and "Jade Martin" in page
    assert not SchoolYear.objects.filter(name="2027-2028").exists()


def test_a_family_cannot_open_the_assistant(town, client):
    client.force_login(town["user"])
    assert client.get(ROLLOVER_URL).status_code in (302, 403)


def test_the_preview_page_costs_the_same_queries_for_one_family_or_many(
        town, agent_client, school, meal, django_assert_num_queries):
    def preview():
        assert agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).status_code == 200

    preview()  # the session and the town's settings are read once
    with django_assert_num_queries(PREVIEW_QUERIES):
        preview()
    for i in range(4):
        user, family, _kids = make_family(f"Autre{i}", f"autre{i}@example.org", school,
                                          children=("Ana", "Bob"))
        Child.objects.filter(family=family).update(school_class="CE2")
        dossier.submit_file(family, town["insurance"], pdf_upload(), by=user)
        # Services to choose from, stopped earlier, ending with the year, open into the next.
        for last in (datetime.date(2027, 2, 1), datetime.date(2027, 7, 3), datetime.date(2028, 7, 3)):
            Service.objects.create(name=f"Service {i} {last}", start=datetime.date(2026, 9, 1), end=last,
                                   ticket_type=meal)
    with django_assert_num_queries(PREVIEW_QUERIES):
        preview()
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).content.decode()
    assert page.count('name="services"') == 1 + 8 and "Service 3 2028-07-03" in page


def test_a_day_already_booked_in_the_new_year_s_holidays_is_cancelled_as_the_preview_said(
        town, agent, canteen, meal, django_capture_on_commit_callbacks):
    """A service opened into the next year by hand before the rollover: a day booked in what
    becomes the Toussaint holidays is cancelled and its ticket given back, as any closure does."""
    canteen.end = datetime.date(2028, 7, 3)
    canteen.save()
    toussaint_monday = datetime.date(2027, 10, 25)
    booking = book_day(town["lea"], canteen, toussaint_monday, by=town["user"], now=NOW)
    balance = town["family"].wallets.get(ticket_type=meal).balance
    plan = rollover.preview(*NEW_YEAR)
    assert plan.cancelled_bookings == 1 and plan.services == []
    run(agent, django_capture_on_commit_callbacks)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert town["family"].wallets.get(ticket_type=meal).balance == balance + 1
    town["june"].refresh_from_db()
    assert town["june"].status == Booking.Status.ACTIVE


def test_a_year_that_already_began_or_is_not_the_latest_is_refused(town, agent,
                                                                    django_capture_on_commit_callbacks):
    """Typing the running year's name must not move every child up a class in the middle of it."""
    SchoolYear.objects.create(name="2025-2026", start=datetime.date(2025, 9, 1),
                              end=datetime.date(2026, 7, 4))
    with pytest.raises(rollover.RolloverError, match="a déjà commencé"):
        rollover.preview("2026-2027", None, None, "B")
    run(agent, django_capture_on_commit_callbacks)
    with pytest.raises(rollover.RolloverError, match="n’est pas la dernière"):
        rollover.preview("2026-2027", None, None, "B")
    # The rollover's own year, even once begun, may be previewed again: nothing left to do.
    with time_machine.travel(datetime.datetime(2027, 9, 15, 8, 0, tzinfo=PARIS), tick=False):
        assert rollover.preview(*NEW_YEAR).is_empty


@pytest.fixture
def mail_server_down(settings):
    """Production's SMTP backend at a port where nothing listens (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    settings.EMAIL_PORT = probe.getsockname()[1]
    probe.close()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 0.5


def test_the_agent_s_apply_succeeds_and_says_who_was_told_while_the_mail_server_is_down(
        town, agent_client, mail_server_down, django_capture_on_commit_callbacks):
    plan = rollover.preview(*NEW_YEAR)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(ROLLOVER_URL, {**FORM, "action": "apply",
                                                    "fingerprint": plan.fingerprint()}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Année 2027-2028 prête" in page and "Les familles concernées reçoivent un e-mail" in page
    # The worker wrote them once the apply committed and could not send them: the assistant's
    # page says so (it said the 2 families « ont reçu par e-mail la liste » while nothing left).
    page = agent_client.get(ROLLOVER_URL).content.decode()
    assert "le 14 juin 2027 à 08:00, un e-mail a été écrit pour 2 familles avec la liste" in page
    assert "Partis : 0 ; en attente du serveur d’e-mails : 2 ; en échec : 0." in page
    assert f'href="{reverse("emails:index")}"' in page and "ont reçu" not in page
    assert Child.objects.get(pk=town["lea"].pk).school_class == "CE1"
    waiting = OutgoingEmail.objects.filter(template="renewal_requested")
    assert waiting.count() == 2 and mail.outbox == []
    assert all(e.status == OutgoingEmail.Status.PENDING and "Connection refused" in e.last_error
               for e in waiting)


def test_renewal_e_mails_whose_task_was_lost_are_sent_once_by_the_hourly_run(
        town, agent, monkeypatch, django_capture_on_commit_callbacks):
    class LostQueue:
        def enqueue(self):
            raise OSError("the task table could not be written")

    monkeypatch.setattr(rollover, "send_renewal_requests", LostQueue())
    run(agent, django_capture_on_commit_callbacks)  # applied all the same
    monkeypatch.undo()
    assert mail.outbox == [] and SchoolYear.objects.filter(name="2027-2028").exists()
    assert [y.name for y in rollover.pending_renewals()] == ["2027-2028"]
    for _hour in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_notifications", stdout=io.StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == ["dupont@example.org", "martin@example.org"]
    assert list(rollover.pending_renewals()) == []


# The agent's choice of the services carried on -------------------------------------------------

def ends():
    return dict(Service.objects.values_list("name", "end"))


def cells_of(child, user, days):
    children = [c for c in children_of_guardian(user.pk) if c.pk == child.pk]
    return day_states(children, days, now=NOW).rows[0].cells


def test_a_service_left_unticked_keeps_its_end_and_is_not_offered_in_the_new_year(
        town, agent, canteen, evening, django_capture_on_commit_callbacks):
    plan = rollover.preview(*NEW_YEAR, carry={canteen.pk})
    assert plan.services == [("Cantine", datetime.date(2027, 7, 3))]
    assert plan.services_left == [("Garderie du soir", datetime.date(2027, 7, 3))]
    with django_capture_on_commit_callbacks(execute=True):
        applied = rollover.apply(*NEW_YEAR, by=agent, carry={canteen.pk}, expected=plan.fingerprint())
    assert applied == plan
    assert ends() == {"Cantine": datetime.date(2028, 7, 3), "Garderie du soir": datetime.date(2027, 7, 3)}
    entry = AuditLog.objects.get(action="year.rollover")
    assert entry.after["services"] == ["Cantine"] and entry.after["services_left"] == ["Garderie du soir"]
    # The families' planning: no evening care in September, June's evenings go on.
    give_tickets(town["family"], evening.ticket_type, 2)
    cells = cells_of(town["lea"], town["user"], [CURRENT_DAY, NEXT_DAY])
    assert cells[(evening.pk, NEXT_DAY)].state == "not_offered"
    assert cells[(canteen.pk, NEXT_DAY)].state != "not_offered"
    assert cells[(evening.pk, CURRENT_DAY)].state == "available"
    # Run again with the default choice: the evening care stays ended, nothing changes.
    before = state_of_everything()
    again = rollover.preview(*NEW_YEAR)
    assert again.is_empty and again.services_left == [("Garderie du soir", datetime.date(2027, 7, 3))]
    assert again.running == [("Cantine", datetime.date(2028, 7, 3))]
    assert run(agent, django_capture_on_commit_callbacks).is_empty
    assert state_of_everything() == before
    # Ticked in a later run (forgotten the first time), it is carried on then.
    later = rollover.apply(*NEW_YEAR, by=agent, carry={evening.pk})
    assert later.services == [("Garderie du soir", datetime.date(2027, 7, 3))] and not later.moves
    assert ends()["Garderie du soir"] == datetime.date(2028, 7, 3)


def test_a_service_stopped_earlier_in_the_year_is_offered_unticked_and_carried_on_when_ticked(
        town, agent, canteen, meal, django_capture_on_commit_callbacks):
    def service(name, start, end):
        return Service.objects.create(name=name, weekdays="2", start=start, end=end, ticket_type=meal)

    pilot = service("Mercredi (essai)", datetime.date(2026, 9, 2), datetime.date(2027, 3, 31))
    old = service("Étude 2025", datetime.date(2025, 9, 1), datetime.date(2026, 7, 4))
    service("Centre de loisirs", datetime.date(2026, 9, 1), datetime.date(2027, 12, 20))
    plan = rollover.preview(*NEW_YEAR)
    assert [(c.name, c.end, c.usual, c.carried) for c in plan.service_choices] == [
        ("Mercredi (essai)", datetime.date(2027, 3, 31), False, False),
        ("Cantine", datetime.date(2027, 7, 3), True, True)]
    # Open into the new year already: shown, nothing to do. Ended last year: not offered.
    assert plan.running == [("Centre de loisirs", datetime.date(2027, 12, 20))]
    with pytest.raises(rollover.RolloverError, match="Prestation inconnue"):
        rollover.preview(*NEW_YEAR, carry={old.pk})

    chosen = rollover.preview(*NEW_YEAR, carry={canteen.pk, pilot.pk})
    assert chosen.fingerprint() != plan.fingerprint()
    with django_capture_on_commit_callbacks(execute=True):
        assert rollover.apply(*NEW_YEAR, by=agent, carry={canteen.pk, pilot.pk},
                              expected=chosen.fingerprint()) == chosen
    assert ends() == {"Mercredi (essai)": datetime.date(2028, 7, 3), "Cantine": datetime.date(2028, 7, 3),
                      "Étude 2025": datetime.date(2026, 7, 4),
                      "Centre de loisirs": datetime.date(2027, 12, 20)}
    assert AuditLog.objects.get(action="year.rollover").after["services"] == ["Mercredi (essai)", "Cantine"]


def test_applying_another_choice_than_the_previewed_one_applies_nothing(town, agent, canteen, evening):
    shown = rollover.preview(*NEW_YEAR)  # both ticked
    assert rollover.preview(*NEW_YEAR, carry={canteen.pk}).fingerprint() != shown.fingerprint()
    assert rollover.preview(*NEW_YEAR, carry=set()).fingerprint() != shown.fingerprint()
    assert rollover.preview(*NEW_YEAR, carry={evening.pk, canteen.pk}).fingerprint() == shown.fingerprint()
    before = state_of_everything()
    with pytest.raises(rollover.PlanChanged) as changed:
        rollover.apply(*NEW_YEAR, by=agent, carry={canteen.pk}, expected=shown.fingerprint())
    assert changed.value.plan.services_left == [("Garderie du soir", datetime.date(2027, 7, 3))]
    assert state_of_everything() == before


def test_a_ticked_service_extended_by_hand_since_the_preview_changes_the_plan(
        town, agent, canteen, evening):
    shown = rollover.preview(*NEW_YEAR)
    Service.objects.filter(pk=evening.pk).update(end=datetime.date(2028, 6, 30))
    with pytest.raises(rollover.PlanChanged) as changed:
        rollover.apply(*NEW_YEAR, by=agent, carry={canteen.pk, evening.pk}, expected=shown.fingerprint())
    assert changed.value.plan.running == [("Garderie du soir", datetime.date(2028, 6, 30))]
    assert changed.value.plan.services == [("Cantine", datetime.date(2027, 7, 3))]
    assert ends()["Garderie du soir"] == datetime.date(2028, 6, 30)  # not pushed to the year's end
    assert not SchoolYear.objects.filter(name="2027-2028").exists()


# The assistant's form: the services' checkboxes -------------------------------------------------

def checkbox(service, checked):
    return (f'<input type="checkbox" name="services" value="{service.pk}" id="service-{service.pk}"'
            f'{" checked" if checked else ""}>')


def test_the_preview_lists_the_services_as_labelled_checkboxes_in_fieldsets(
        town, agent_client, canteen, meal):
    pilot = Service.objects.create(name="Mercredi (essai)", weekdays="2", start=datetime.date(2026, 9, 2),
                                   end=datetime.date(2027, 3, 31), ticket_type=meal)
    Service.objects.create(name="Centre de loisirs", weekdays="2", start=datetime.date(2026, 9, 1),
                           end=datetime.date(2027, 12, 20), ticket_type=meal)
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).content.decode()
    assert ("<legend>Prestations qui finissent avec l’année 2026-2027 : cochées, elles sont "
            "prolongées jusqu’au 3 juillet 2028</legend>") in page
    assert ("<legend>Prestations arrêtées plus tôt dans l’année 2026-2027 : cochez-les pour les "
            "reprendre jusqu’au 3 juillet 2028</legend>") in page
    assert checkbox(canteen, True) in page and checkbox(pilot, False) in page
    assert f'<label for="service-{canteen.pk}">Cantine (finit le 03/07/2027)</label>' in page
    assert f'<label for="service-{pilot.pk}">Mercredi (essai) (finit le 31/03/2027)</label>' in page
    assert ("Déjà ouvertes dans la nouvelle année, rien à faire : Centre de loisirs "
            "(jusqu’au 20/12/2027)") in page
    assert page.index('name="services"') < page.index('id="rollover-apply"') < page.index("</form>")

    # Unticking the canteen and ticking the pilot, then « Mettre l’aperçu à jour »: the preview
    # says so, and its apply button applies exactly that.
    choice = {**FORM, "services_shown": "1", "services": [str(pilot.pk)]}
    page = agent_client.post(ROLLOVER_URL, {**choice, "action": "preview"}).content.decode()
    assert checkbox(canteen, False) in page and checkbox(pilot, True) in page
    assert "1 prestation laissée finir à sa date, sans jour proposé aux familles dans la nouvelle " \
           "année : Cantine (finit le 03/07/2027)" in page
    fingerprint = rollover.preview(*NEW_YEAR, carry={pilot.pk}).fingerprint()
    assert f'value="{fingerprint}"' in page
    page = agent_client.post(ROLLOVER_URL, {**choice, "action": "apply", "fingerprint": fingerprint},
                             follow=True).content.decode()
    assert "Prestations prolongées : Mercredi (essai). Laissées finir à leur date : Cantine." in page
    assert ends()["Cantine"] == datetime.date(2027, 7, 3)
    assert ends()["Mercredi (essai)"] == datetime.date(2028, 7, 3)


def test_the_assistant_applies_nothing_when_the_boxes_changed_after_the_preview(town, agent_client, canteen):
    shown = rollover.preview(*NEW_YEAR)
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "apply", "fingerprint": shown.fingerprint(),
                                            "services_shown": "1"}, follow=True).content.decode()
    assert "L’aperçu a changé depuis que vous l’avez vu (prestations cochées ou décochées" in page
    assert checkbox(canteen, False) in page  # the new preview keeps the agent's choice
    assert not SchoolYear.objects.filter(name="2027-2028").exists()
    assert ends()["Cantine"] == datetime.date(2027, 7, 3)


@pytest.mark.parametrize("services, message", [
    (["abc"], "Le choix des prestations à prolonger n’est pas lisible : revoyez l’aperçu."),
    (["1.5"], "Le choix des prestations à prolonger n’est pas lisible : revoyez l’aperçu."),
    (["999999"], "Prestation inconnue ou qui n’est pas à reprendre dans ce passage (n° 999999)"),
])
def test_a_tampered_choice_is_refused_in_french_and_changes_nothing(
        town, agent_client, services, message):
    before = state_of_everything()
    for action in ("preview", "apply"):
        response = agent_client.post(ROLLOVER_URL, {**FORM, "action": action, "services_shown": "1",
                                                    "services": services})
        assert response.status_code == 200
        page = response.content.decode()
        assert message in page and 'role="alert"' in page and 'id="rollover-preview"' not in page
    assert state_of_everything() == before


def test_a_service_that_ended_last_year_cannot_be_slipped_into_the_choice(
        town, agent_client, canteen, meal):
    old = Service.objects.create(name="Étude 2025", weekdays="2", start=datetime.date(2025, 9, 1),
                                 end=datetime.date(2026, 7, 4), ticket_type=meal)
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "preview"}).content.decode()
    assert "Étude 2025" not in page
    before = state_of_everything()
    page = agent_client.post(ROLLOVER_URL, {**FORM, "action": "apply", "services_shown": "1",
                                            "services": [str(canteen.pk), str(old.pk)]}).content.decode()
    assert f"(n° {old.pk}) : revoyez l’aperçu" in page
    assert state_of_everything() == before
