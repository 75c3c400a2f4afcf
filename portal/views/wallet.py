from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from portal.money import euros
from portal.services.access import access_family
from portal.services.payments import purchases
from portal.services.wallet import family_balances, ledger_entries


@login_required
def wallet_page(request):
    family = access_family(request.user)
    balances = family_balances(family, purchases.prices(family))
    for line in balances:
        line["unit_price"] = euros(line["unit_cents"]) if line["unit_cents"] is not None else None
    page = Paginator(ledger_entries(family), 50).get_page(request.GET.get("page"))
    return render(request, "portal/wallet.html", {"family": family, "balances": balances, "page": page})
