"""The demo payment provider end to end in a real browser: buy tickets, the balance rises, book a day."""

import datetime
import re

from django.utils import timezone

from home.demo import DEMO_PASSWORD
from portal.models import Child, Wallet


def test_a_family_buys_tickets_with_the_demo_provider_then_books_a_day(page, assert_accessible):
    from playwright.sync_api import expect

    wallet = Wallet.objects.get(family__guardians__email="famille.demo@example.org",
                                ticket_type__name="Repas")
    before = wallet.balance
    page.goto("/famille/connexion/")
    page.fill("input[name=username]", "famille.demo@example.org")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()

    page.goto("/famille/porte-monnaie/")
    page.get_by_role("link", name="Acheter des tickets Repas").click()
    expect(page.locator("main")).to_contain_text("Mode démonstration")
    expect(page.locator("main")).to_contain_text("ne sont pas remboursés")
    assert_accessible(page)
    page.get_by_label("Nombre de tickets").fill("3")
    page.get_by_role("button", name="Continuer vers le paiement de démonstration").click()

    expect(page.locator("main")).to_contain_text("Ceci n’est pas un vrai paiement")
    assert_accessible(page)
    page.get_by_role("button", name="Simuler un paiement réussi").click()

    expect(page.locator("main")).to_contain_text("Paiement reçu : 3 tickets Repas")
    expect(page.locator("#new-balance")).to_contain_text(f"{before + 3} tickets")
    wallet.refresh_from_db()
    assert wallet.balance == before + 3
    page.get_by_role("link", name="télécharger le reçu (PDF)").wait_for()

    # The new tickets are spent in the planning like any other.
    child = Child.objects.filter(family=wallet.family).order_by("pk").first()
    month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=40)).strftime("%Y-%m")
    page.goto(f"/famille/planning/enfant/{child.pk}/?mois={month}")
    page.get_by_role("button", name=re.compile("— Réserver Cantine")).first.click()
    expect(page.locator("#planning-status")).to_contain_text("Réservé : Cantine")
    wallet.refresh_from_db()
    assert wallet.balance == before + 2
