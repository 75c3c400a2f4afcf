"""Demo payments: the demo family's past purchases, each with its receipt.

Idempotent: nothing is added once the family has a purchase. Goes through the same services
as real payments (town-hall payments, and the demo provider when no Stripe key is set).
"""

from portal.models import Family, Purchase, TicketType, User
from portal.payments import demo, get_provider
from portal.services import payment

from .demo_planning import AGENT_EMAIL, FAMILY_EMAIL


def load():
    family = Family.objects.filter(guardians__email=FAMILY_EMAIL).first()
    agent = User.objects.filter(email=AGENT_EMAIL).first()
    if family is None or agent is None or Purchase.objects.filter(family=family).exists():
        return
    guardian = family.guardians.order_by("pk").first()
    types = {t.name: t for t in TicketType.objects.filter(name__in=["Repas", "Garderie", "Mercredi"])}
    if len(types) < 3:
        return
    payment.record_town_hall_payment(family, types["Garderie"], 5, Purchase.Method.CHEQUE, by=agent,
                                     reference="0001234")
    payment.record_town_hall_payment(family, types["Mercredi"], 2, Purchase.Method.CASH, by=agent)
    if get_provider().NAME == "demo":
        purchase = payment.start_purchase(family, types["Repas"], 10, by=guardian)
        payment.open_checkout(purchase, success_url="/famille/paiement/retour/",
                              cancel_url="/famille/porte-monnaie/")
        purchase.refresh_from_db()
        demo.settle(purchase.session_id, "paid")
        payment.settle_session(demo.retrieve_session(purchase.session_id))
