"""create_purchase, list_purchases."""

import datetime
import uuid

from django.urls import reverse
from ninja import Field, Router, Schema, Status

from portal.models import Child, Purchase, TicketType
from portal.services.payments import PaymentError, purchases

from .auth import AUTH
from .common import ApiError, Id, family_of, not_found, responses

router = Router(tags=["paiements"], auth=AUTH)

# The web page's answers to a PaymentError, by code (a provider that does not answer is not the
# caller's fault, but it is not a server error of ours either: 409 and "réessayez").
STATUS = {"quantity": 422, "suspended": 403, "no_price": 409, "not_pending": 409,
          "payment_unavailable": 409}


class PurchaseIn(Schema):
    ticket_type_id: Id
    quantity: int = Field(ge=1, le=10_000, description="Entre le minimum et le maximum de la commune")
    idempotency_key: uuid.UUID | None = Field(
        None, description="Le même UUID renvoie le même achat : un double envoi ne paie qu’une fois")


class PurchaseCreated(Schema):
    id: int
    state: str
    ticket_type_id: int
    quantity: int
    amount_cents: int
    checkout_url: str = Field(description="La page de paiement (Stripe Checkout) à ouvrir dans le navigateur")


class ReceiptOut(Schema):
    number: str
    url: str


class PurchaseOut(Schema):
    id: int
    created_at: datetime.datetime
    paid_at: datetime.datetime | None
    state: str = Field(description="paid, failed, expired ou cancelled (les achats en attente ne sont "
                                   "pas listés)")
    state_label: str
    ticket_type_id: int
    ticket_type: str
    quantity: int
    amount_cents: int
    method: str
    method_label: str
    receipt: ReceiptOut | None


@router.post("/purchases", operation_id="create_purchase", response=responses({201: PurchaseCreated}),
             summary="Acheter des tickets : renvoie l’adresse de la page de paiement")
def create_purchase(request, data: PurchaseIn):
    """Refus : `quantity` (422, hors des limites de la commune), `suspended` (403), `no_price`
    (409, aucun tarif pour la famille), `payment_unavailable` (409, réessayez)."""
    family = family_of(request)
    ticket_type = next((t for t, _unit in purchases.buyable_ticket_types(family)
                        if t.pk == data.ticket_type_id), None)
    if ticket_type is None:
        # One the family's services use but without a price for its bracket: start_purchase
        # refuses it with `no_price`; any other is not the family's to buy.
        schools = Child.objects.filter(Child.of_household(family.pk)).values("school_id")
        ticket_type = TicketType.objects.filter(pk=data.ticket_type_id,
                                                services__schools__in=schools).first()
        if ticket_type is None:
            raise not_found()
    try:
        purchase = purchases.start_purchase(family, ticket_type, data.quantity, by=request.auth,
                                            token=data.idempotency_key)
        url = purchases.open_checkout(
            purchase, success_url=request.build_absolute_uri(reverse("portal:payment_return")),
            cancel_url=request.build_absolute_uri(
                f"{reverse('portal:payment_cancel')}?achat={purchase.token}"))
    except PaymentError as exc:
        raise ApiError(STATUS.get(exc.code, 409), exc.code, str(exc)) from None
    return Status(201, {"id": purchase.pk, "state": purchase.state, "ticket_type_id": ticket_type.pk,
                 "quantity": purchase.quantity, "amount_cents": purchase.amount_cents, "checkout_url": url})


@router.get("/purchases", operation_id="list_purchases", response=responses({200: list[PurchaseOut]}),
            summary="Les achats de la famille (200 derniers), avec leur reçu")
def list_purchases(request):
    family = family_of(request)
    rows = (Purchase.objects.filter(family=family).exclude(state=Purchase.State.PENDING)
            .select_related("ticket_type", "receipt").order_by("-created_at", "-pk")[:200])
    out = []
    for p in rows:
        receipt = getattr(p, "receipt", None) if p.state == Purchase.State.PAID else None
        out.append({
            "id": p.pk, "created_at": p.created_at, "paid_at": p.paid_at, "state": p.state,
            "state_label": p.get_state_display(), "ticket_type_id": p.ticket_type_id,
            "ticket_type": p.ticket_type.name, "quantity": p.quantity, "amount_cents": p.amount_cents,
            "method": p.method, "method_label": p.get_method_display(),
            "receipt": {"number": receipt.label, "url": request.build_absolute_uri(
                reverse("portal:payment_receipt_pdf", args=[p.pk]))} if receipt else None,
        })
    return out
