"""get_me, get_wallet."""

import datetime

from ninja import Field, Query, Router, Schema

from portal.models import Child, User
from portal.services.payments import purchases
from portal.services.planning_states import family_bookings_open
from portal.services.wallet import family_balances, ledger_entries

from .auth import AUTH
from .common import family_of, responses

router = Router(tags=["famille"], auth=AUTH)

LEDGER_PAGE = 50


class FamilyOut(Schema):
    id: int
    name: str
    status: str = Field(description="invited, incomplete, submitted, validated ou suspended")
    status_label: str
    bookings_open: bool = Field(description="Le dossier permet de réserver")
    address: str
    postcode: str
    city: str
    phone: str


class GuardianOut(Schema):
    first_name: str
    last_name: str
    email: str
    phone: str


class SchoolOut(Schema):
    id: int
    name: str


class ChildOut(Schema):
    id: int
    first_name: str
    last_name: str
    birth_date: datetime.date
    school: SchoolOut
    school_class: str
    reviewed: bool = Field(description="Faux tant que la mairie n’a pas vérifié la fiche de "
                                       "l’enfant : il n’est pas encore réservable")


class MeOut(Schema):
    family: FamilyOut
    guardians: list[GuardianOut]
    children: list[ChildOut]


@router.get("/me", operation_id="get_me", response=responses({200: MeOut}),
            summary="La famille, ses responsables et ses enfants")
def get_me(request):
    family = family_of(request)
    guardians = User.objects.filter(families=family).order_by("pk")
    children = (Child.objects.filter(Child.of_household(family.pk)).select_related("school")
                .order_by("first_name", "pk"))
    return {
        "family": {"id": family.pk, "name": family.name, "status": family.status,
                   "status_label": family.get_status_display(), "bookings_open": family_bookings_open(family),
                   "address": family.address, "postcode": family.postcode, "city": family.city,
                   "phone": family.phone},
        "guardians": [{"first_name": g.first_name, "last_name": g.last_name, "email": g.email,
                       "phone": g.phone} for g in guardians],
        "children": [{"id": c.pk, "first_name": c.first_name, "last_name": c.last_name,
                      "birth_date": c.birth_date, "school": {"id": c.school.pk, "name": c.school.name},
                      "school_class": c.school_class,
                      "reviewed": c.reviewed_at is not None}
                     for c in children],
    }


class TicketTypeOut(Schema):
    id: int
    name: str


class BalanceOut(Schema):
    ticket_type: TicketTypeOut
    balance: int = Field(description="Tickets disponibles")
    unit_price_cents: int | None = Field(description="Prix d’un ticket au tarif de la famille, en centimes")
    debt: int = Field(description="Tickets de pénalité dus, retenus sur le prochain achat")


class EntryOut(Schema):
    id: int
    created_at: datetime.datetime
    kind: str = Field(description="purchase, booking, cancellation, penalty, excuse ou adjustment")
    kind_label: str
    quantity: int = Field(description="Tickets ajoutés (positif) ou retirés (négatif)")
    ticket_type_id: int
    reason: str
    booking_id: int | None


class LedgerOut(Schema):
    page: int
    pages: int
    count: int
    entries: list[EntryOut]


class WalletOut(Schema):
    balances: list[BalanceOut]
    ledger: LedgerOut


class WalletQuery(Schema):
    page: int = Field(1, ge=1, le=100_000, description="Page du relevé, 50 lignes par page, "
                                                       "les plus récentes d’abord")


@router.get("/wallet", operation_id="get_wallet", response=responses({200: WalletOut}),
            summary="Soldes de tickets et une page du relevé")
def get_wallet(request, query: Query[WalletQuery]):
    family = family_of(request)
    balances = family_balances(family, purchases.prices(family))
    entries = ledger_entries(family)
    count = entries.count()
    start = (query.page - 1) * LEDGER_PAGE
    rows = list(entries[start:start + LEDGER_PAGE]) if start < count else []
    return {
        "balances": [{"ticket_type": {"id": b["ticket_type"].pk, "name": b["ticket_type"].name},
                      "balance": b["balance"], "unit_price_cents": b["unit_cents"], "debt": b["debt"]}
                     for b in balances],
        "ledger": {"page": query.page, "pages": max(1, -(-count // LEDGER_PAGE)), "count": count,
                   "entries": [{"id": e.pk, "created_at": e.created_at, "kind": e.kind,
                                "kind_label": e.get_kind_display(), "quantity": e.quantity,
                                "ticket_type_id": e.wallet.ticket_type_id, "reason": e.reason,
                                "booking_id": e.booking_id} for e in rows]},
    }
