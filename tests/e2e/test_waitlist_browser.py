"""The waiting list of a full day in a real browser, family and agent together: a parent signs
up by keyboard on a phone, an agent finds the entry in Planning → « Listes d’attente » and takes
it off; and a cancellation gives the freed place to the first family of the list with a ticket."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from portal.models import Booking, Child, WaitlistEntry, Wallet
from portal.services.booking import book_day, join_waitlist
from portal.services.deadlines import is_working_day
from portal.services.notify import day_label
from portal.views.planning_grid import cell_id
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    log_in_family,
    log_in_to_admin,
    new_tab,
    validated_family,
)
from tests.factories import PASSWORD, make_agent

# The browser and the canteen (bookable_canteen) come from tests/e2e/conftest.py.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WAITING_EMAIL = "attente@example.org"
BOOKED_EMAIL = "martin@example.org"


def first_school_day(month):
    day = datetime.date.fromisoformat(f"{month}-01")
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def child_of(family, first_name, school):
    return Child.objects.create(family=family, first_name=first_name, last_name=family.name.split()[-1],
                                birth_date=datetime.date(2018, 1, 1), school=school)


@pytest.fixture
def full_day(bookable_canteen):
    """The canteen holds one child a day; on the first school day of `month` Tom Martin has the
    place. Léa Bernard's family (2 tickets) would like it too."""
    canteen, meal, school = bookable_canteen["canteen"], bookable_canteen["meal"], bookable_canteen["school"]
    canteen.capacity = 1
    canteen.save()
    day = first_school_day(bookable_canteen["month"])
    martin_user, martin = validated_family(BOOKED_EMAIL, "Famille Martin", meal)
    tom = child_of(martin, "Tom", school)
    book_day(tom, canteen, day, by=martin_user)
    _user, bernard = validated_family(WAITING_EMAIL, "Famille Bernard", meal)
    lea = child_of(bernard, "Léa", school)
    return {"canteen": canteen, "day": day, "month": bookable_canteen["month"],
            "tom": tom, "lea": lea, "bernard": bernard,
            "lea_cell": cell_id(lea.pk, canteen.pk, day), "tom_cell": cell_id(tom.pk, canteen.pk, day)}


@pytest.fixture
def phone_tab(browser, live_server):
    context, page = new_tab(browser, live_server, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_tab(browser, live_server):
    context, page = new_tab(browser, live_server, DESKTOP)
    yield page
    context.close()


def planning_url(data, child):
    return f"/famille/planning/enfant/{child.pk}/?mois={data['month']}"


def test_a_family_joins_by_keyboard_an_agent_takes_it_off_and_the_day_offers_the_list_again(
        live_server, full_day, phone_tab, desktop_tab, assert_accessible):
    data, parent, agent = full_day, phone_tab, desktop_tab
    day_text = f"{data['day']:%d/%m/%Y}"

    # The parent, on a phone: the full day says so in words, not by its colour only.
    log_in_family(parent, live_server, WAITING_EMAIL)
    parent.goto(planning_url(data, data["lea"]))
    day = parent.locator(f"#{data['lea_cell']}")
    expect(day).to_be_visible()
    expect(day).to_contain_text("Complet")
    expect(day).to_contain_text("liste d’attente")
    expect(day.locator("svg use")).to_have_attribute("href", "#i-full")
    expect(day).to_have_accessible_name(re.compile(
        r"^Cantine Complet liste d’attente — "
        r"Complet : inscrire Léa sur la liste d’attente de Cantine le \w+ \d+ \w+$"))
    expect(parent.locator("#balances")).to_contain_text("Repas : 2")

    # Signed up with the keyboard: focus on the day, Enter.
    day.focus()
    parent.keyboard.press("Enter")
    expect(parent.locator("#planning-status")).to_contain_text(
        f"Léa est sur la liste d’attente : Cantine, {day_text}.")
    expect(day).to_contain_text("En liste d’attente")
    expect(day).to_contain_text("n° 1")
    expect(day.locator("svg use")).to_have_attribute("href", "#i-hourglass")
    expect(day).to_have_accessible_name(re.compile(
        r"^Cantine En liste d’attente n° 1 quitter la liste — "
        r"Quitter la liste d’attente de Cantine le .+ pour Léa \(n° 1\)$"))
    expect(day).to_be_focused()
    expect(parent.locator("#balances")).to_contain_text("Repas : 2")  # no ticket taken to wait
    assert_accessible(parent)
    entry = WaitlistEntry.objects.get()
    assert (entry.child, entry.status) == (data["lea"], WaitlistEntry.Status.WAITING)

    # The agent, on a computer: Planning → Listes d’attente.
    make_agent("agent@example.org")
    log_in_to_admin(agent, "agent@example.org", PASSWORD)
    agent.get_by_role("button", name="Planning").click()
    agent.get_by_role("link", name="Listes d’attente").click()
    expect(agent.get_by_role("heading", level=1)).to_contain_text("Listes d’attente")
    # Filtered by service, then searched by the child's name (each one reloads the results).
    agent.get_by_role("button", name="Afficher les filtres").click()
    agent.get_by_role("button", name=re.compile(r"^Prestation( \d+)?$")).click()
    agent.get_by_label("Prestation", exact=True).select_option(label="Cantine")
    results = agent.locator("#listing-results")
    expect(results.locator(".w-active-filters")).to_contain_text("Cantine")
    agent.keyboard.press("Escape")
    search = agent.get_by_label("Terme de recherche")
    search.fill("Tom")  # Tom has the place: he waits for nothing
    expect(results).not_to_contain_text("Bernard")
    search.fill("lea")  # typed without its accent
    rows = results.locator("table.listing tbody tr")
    expect(rows).to_have_count(1)
    assert_accessible(agent)
    row = rows.first
    day_cell = re.compile(rf"^\s*{data['day'].day} \w+ {data['day'].year}\s*$")
    expect(row.locator("td")).to_have_text(
        [day_cell, "Cantine", "Léa Bernard", "Famille Bernard", "1", "En attente", re.compile(r"\d"), ""])

    # Taken off through its confirmation page, which says what will happen.
    row.get_by_role("button", name=re.compile("^Plus d’options")).click()
    agent.get_by_role("link", name=re.compile(r"^Retirer Léa Bernard de la liste d’attente du")).click()
    main = agent.locator("main")
    expect(main).to_contain_text("Retirer Léa Bernard (foyer « Famille Bernard ») de la liste d’attente")
    expect(main).to_contain_text("place n° 1")
    assert_accessible(agent)
    agent.get_by_role("button", name="Retirer de la liste").click()
    expect(agent.locator(".messages")).to_contain_text("Léa Bernard est retiré(e) de la liste d’attente")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT

    # The listing shows who still waits; under « Retiré de la liste », Léa, with no position.
    results = agent.locator("#listing-results")
    expect(results).not_to_contain_text("Léa Bernard")
    agent.get_by_role("button", name="Afficher les filtres").click()
    agent.get_by_role("button", name=re.compile(r"^État \d+$")).click()  # with its count of choices
    agent.get_by_label("État", exact=True).select_option(label="Retiré de la liste")
    row = results.locator("table.listing tbody tr", has_text="Léa Bernard")
    expect(row.locator("td").nth(4)).to_have_text("—")
    expect(row.locator("td").nth(5)).to_have_text("Retiré de la liste")

    # Back on the phone: the day offers the waiting list again.
    parent.reload()
    day = parent.locator(f"#{data['lea_cell']}")
    expect(day).to_contain_text("Complet")
    expect(day).not_to_contain_text("En liste d’attente")
    expect(day).to_have_accessible_name(re.compile(
        r"^Cantine Complet liste d’attente — Complet : inscrire Léa sur la liste d’attente"))


def test_a_cancelled_place_goes_to_the_first_family_of_the_list_with_a_ticket(
        live_server, full_day, phone_tab, desktop_tab, mailoutbox):
    data = full_day
    canteen, day = data["canteen"], data["day"]
    # First on the list: the Durand family, with no ticket left. Second: Léa's, with two.
    durand_user, durand = validated_family("durand@example.org", "Famille Durand", canteen.ticket_type,
                                           tickets=0)
    zoe = child_of(durand, "Zoé", data["lea"].school)
    join_waitlist(zoe, canteen, day, by=durand_user)
    join_waitlist(data["lea"], canteen, day, by=data["bernard"].guardians.get())
    mailoutbox.clear()

    # Léa's parent sees her second in line, with two tickets.
    parent = phone_tab
    log_in_family(parent, live_server, WAITING_EMAIL)
    parent.goto(planning_url(data, data["lea"]))
    lea_day = parent.locator(f"#{data['lea_cell']}")
    expect(lea_day).to_contain_text("En liste d’attente")
    expect(lea_day).to_contain_text("n° 2")
    expect(parent.locator("#balances")).to_contain_text("Repas : 2")

    # Tom's parent cancels in the browser.
    martin = desktop_tab
    log_in_family(martin, live_server, BOOKED_EMAIL)
    martin.goto(planning_url(data, data["tom"]))
    tom_day = martin.locator(f"#{data['tom_cell']}")
    expect(tom_day).to_have_accessible_name(re.compile("^Cantine Réservé annuler — Annuler Cantine"))
    tom_day.click()
    expect(martin.locator("#planning-status")).to_contain_text("Réservation annulée")
    expect(martin.locator("#balances")).to_contain_text("Repas : 2")

    # The place went to Léa, booked and paid; Zoé (no ticket) keeps her place, first in line.
    parent.reload()
    expect(lea_day).to_contain_text("Réservé")
    expect(lea_day).not_to_contain_text("liste d’attente")
    expect(lea_day).to_have_accessible_name(
        re.compile("^Cantine Réservé annuler — Annuler Cantine .+ pour Léa$"))
    expect(parent.locator("#balances")).to_contain_text("Repas : 1")
    assert Wallet.objects.get(family=data["bernard"]).balance == 1
    assert Booking.objects.get(status=Booking.Status.ACTIVE).child == data["lea"]
    assert WaitlistEntry.objects.get(child=zoe).status == WaitlistEntry.Status.WAITING

    # Léa's family is told by e-mail; nobody else is.
    assert [m.to for m in mailoutbox] == [[WAITING_EMAIL]]
    assert "Liste d’attente : place obtenue" in mailoutbox[0].subject
    line = f"Une place s’est libérée : Cantine du {day_label(day)} pour Léa est réservé(e)."
    assert line in mailoutbox[0].body
