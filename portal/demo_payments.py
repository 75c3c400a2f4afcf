"""Demo payments: the demo family's past purchases, each with its receipt.

Idempotent: nothing is added once the family has a purchase. Goes through the same services
as real payments, with the demo provider (skipped when Stripe keys are set).
"""

from portal.models import Family, Purchase, TicketType
from portal.payments import demo, get_provider
from portal.services.payments import purchases

from .demo_planning import FAMILY_EMAIL


def load():
    family = Family.objects.filter(guardians__email=FAMILY_EMAIL).first()
    if family is None or Purchase.objects.filter(family=family).exists():
        return
    types = {t.name: t for t in TicketType.objects.filter(name__in=["Repas", "Garderie", "Mercredi"])}
    if len(types) < 3:
        return
    # Through the demo provider, as a family would pay offline (town-hall payments would write
    # agents' audit entries, which demo data must not invent).
    if get_provider().NAME != "demo":
        return
    for name, quantity in (("Garderie", 5), ("Mercredi", 2), ("Repas", 10)):
        pay_online(family, types[name], quantity)


def pay_online(family, ticket_type, quantity):
    """A purchase paid through the demo provider, credited and with its receipt (no e-mail).
    False when the demo provider is not the one in use or the family has no price."""
    if get_provider().NAME != "demo" or purchases.unit_price(family, ticket_type) is None:
        return False
    guardian = family.guardians.order_by("pk").first()
    purchase = purchases.start_purchase(family, ticket_type, quantity, by=guardian)
    purchases.open_checkout(purchase, success_url="/famille/paiement/retour/",
                            cancel_url="/famille/porte-monnaie/")
    purchase.refresh_from_db()
    demo.settle(purchase.session_id, "paid")
    purchases.settle_session(demo.retrieve_session(purchase.session_id), notify=False)
    return True
