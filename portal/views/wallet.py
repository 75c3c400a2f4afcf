from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import render

from portal.models import LedgerEntry, Service, TicketDebt, TicketType, Wallet
from portal.money import euros
from portal.services.access import access_family
from portal.services.payments import purchases


@login_required
def wallet_page(request):
    family = access_family(request.user)
    wallets = {w.ticket_type_id: w for w in Wallet.objects.filter(family=family)}
    used_types = TicketType.objects.filter(pk__in=Service.objects.values("ticket_type")) | \
        TicketType.objects.filter(pk__in=list(wallets))
    prices = {type_id: euros(cents) for type_id, cents in purchases.prices(family).items()}
    # Penalty tickets the wallet lacked at a roll-call's closing: the next purchase pays them first.
    debts = dict(TicketDebt.objects.filter(wallet__family=family, remaining__gt=0)
                 .values("wallet__ticket_type").annotate(n=Sum("remaining"))
                 .values_list("wallet__ticket_type", "n"))
    balances = [{"ticket_type": t, "balance": wallets[t.pk].balance if t.pk in wallets else 0,
                 "unit_price": prices.get(t.pk), "debt": debts.get(t.pk, 0)}
                for t in used_types.distinct().order_by("name")]
    entries = (LedgerEntry.objects.filter(wallet__family=family)
               .select_related("wallet__ticket_type", "booking__child", "booking__service"))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "portal/wallet.html", {"family": family, "balances": balances, "page": page})
