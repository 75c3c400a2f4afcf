"""Buying tickets online, the return from the payment page, receipts and Stripe's webhook."""

import json
import logging
import time
import uuid

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.models import DemoCheckoutSession, Purchase, Receipt, Wallet
from portal.money import euros
from portal.payments import ProviderError, demo, get_provider
from portal.services.access import access_family, access_paid_purchase, access_purchase_by_token
from portal.services.payments import PaymentError, purchases, receipts, webhook

from .downloads import as_download

logger = logging.getLogger(__name__)


def _parse_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def buy(request):
    """Choose a ticket type and a quantity, with suggestions from the planning, then pay."""
    family = access_family(request.user)
    offers = purchases.buyable_ticket_types(family)
    by_id = {t.pk: (t, unit) for t, unit in offers}
    chosen_id = _parse_int(request.POST.get("ticket_type") or request.GET.get("type"))
    if chosen_id not in by_id:
        chosen_id = offers[0][0].pk if offers else None
    low, high = purchases.quantity_limits()
    error, quantity = "", None
    if request.method == "POST" and chosen_id is not None:
        quantity = _parse_int(request.POST.get("quantity"))
        ticket_type, _unit = by_id[chosen_id]
        try:
            purchase = purchases.start_purchase(family, ticket_type, quantity, by=request.user,
                                              token=request.POST.get("token"))
            url = purchases.open_checkout(
                purchase, success_url=request.build_absolute_uri(reverse("portal:payment_return")),
                cancel_url=request.build_absolute_uri(
                    f"{reverse('portal:payment_cancel')}?achat={purchase.token}"))
        except PaymentError as exc:
            error = str(exc)
        else:
            return redirect(url)
    context = {"family": family, "offers": [], "low": low, "high": high, "error": error,
               "token": uuid.uuid4(), "demo": get_provider().NAME == "demo"}
    if chosen_id is not None:
        ticket_type, unit = by_id[chosen_id]
        balance = Wallet.objects.filter(family=family, ticket_type=ticket_type).values_list(
            "balance", flat=True).first() or 0
        context.update({
            "offers": [{"ticket_type": t, "unit": euros(u), "unit_cents": u, "chosen": t.pk == chosen_id}
                       for t, u in offers],
            "ticket_type": ticket_type, "unit": euros(unit), "unit_cents": unit, "balance": balance,
            "suggestions": purchases.suggestions(family, ticket_type),
            "quantity": quantity if quantity is not None else "",
        })
    return render(request, "portal/payment/buy.html", context, status=400 if error else 200)


@login_required
def payment_return(request):
    """Where the payment page sends the family back: check the session and credit if paid."""
    family = access_family(request.user)
    session_id = (request.GET.get("session_id") or "")[:255]
    purchase = purchases.confirm_return(session_id, family) if session_id else None
    if purchase is None:
        return render(request, "portal/payment/return.html", {"unknown": True}, status=404)
    balance = Wallet.objects.filter(family=family, ticket_type=purchase.ticket_type).values_list(
        "balance", flat=True).first() or 0
    return render(request, "portal/payment/return.html", {"purchase": purchase, "balance": balance})


@login_required
def payment_cancel(request):
    family = access_family(request.user)
    purchase = access_purchase_by_token(family, request.GET.get("achat"))
    purchases.cancel_pending(purchase)
    return render(request, "portal/payment/return.html", {"purchase": purchase, "cancelled": True})


@login_required
def demo_checkout(request, session_id):
    """The demo provider's "bank" page: says clearly that no money moves."""
    family = access_family(request.user)
    row = DemoCheckoutSession.objects.filter(session_id=session_id).first()
    purchase = row and Purchase.objects.filter(token=row.purchase_token, family=family).select_related(
        "ticket_type").first()
    if not purchase:
        raise Http404
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome == "cancel":
            return redirect(row.cancel_url)
        try:
            demo.settle(session_id, outcome)
        except ProviderError:
            return render(request, "portal/payment/demo.html", {
                "purchase": purchase, "row": row, "error": _("Choisissez une des trois issues.")},
                status=400)
        # Back through the return page, exactly like Stripe's redirect.
        return redirect(row.success_url.replace("{CHECKOUT_SESSION_ID}", row.session_id))
    return render(request, "portal/payment/demo.html", {"purchase": purchase, "row": row})


@login_required
def purchase_list(request):
    """The family's payments, each with its receipt."""
    family = access_family(request.user)
    rows = (Purchase.objects.filter(family=family).exclude(state=Purchase.State.PENDING)
            .select_related("ticket_type", "receipt").order_by("-created_at", "-pk")[:200])
    return render(request, "portal/payment/purchases.html", {"family": family, "purchases": rows})


@login_required
def receipt_html(request, purchase_id):
    purchase = access_paid_purchase(access_family(request.user), purchase_id)
    return receipt_page(request, purchase)


@login_required
def receipt_pdf(request, purchase_id):
    purchase = access_paid_purchase(access_family(request.user), purchase_id)
    return receipt_pdf_response(purchase.receipt)


def receipt_page(request, purchase):
    response = render(request, "portal/payment/receipt.html", receipts.receipt_context(purchase.receipt))
    response["Cache-Control"] = "private, no-store"
    return response


def receipt_pdf_response(receipt: Receipt):
    response = HttpResponse(receipts.receipt_pdf(receipt), content_type="application/pdf")
    return as_download(response, f"recu-{receipt.label}.pdf")


def _signed_at(header):
    """The t= timestamp of a Stripe-Signature header already verified."""
    for item in header.split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            return int(value)
    return 0


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's signed events. Bad signature or stale timestamp: 400 and nothing written.
    Processing failure: 500 and the event stays unprocessed, so Stripe delivers it again."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("Stripe webhook called but STRIPE_WEBHOOK_SECRET is not set")
        return HttpResponseBadRequest("webhook secret not configured")
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.Webhook.construct_event(request.body, header, secret)
        event = json.loads(request.body)
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("invalid signature")
    # Stripe's library refuses only timestamps too old; one too far ahead is as suspect (a
    # signature made to be replayed later).
    if _signed_at(header) > time.time() + stripe.Webhook.DEFAULT_TOLERANCE:
        return HttpResponseBadRequest("timestamp in the future")
    if not isinstance(event, dict) or not event.get("id"):
        return HttpResponseBadRequest("invalid event")
    try:
        status = webhook.process_event(event)
    except Exception:
        logger.exception("Stripe event %s could not be processed", event.get("id"))
        return JsonResponse({"status": "error"}, status=500)
    return JsonResponse({"status": status})
