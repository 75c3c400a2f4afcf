"""The family's e-mail choices page (/famille/notifications/)."""

import pytest
from django.urls import reverse

from portal.models import Family, SentNotification
from tests.portal.fixtures_mail import *  # noqa: F403
from tests.portal.fixtures_planning import *  # noqa: F403

URL = reverse("portal:notifications")


def test_a_family_switches_reminders_and_alerts_off_but_not_receipts(logged_dupont, dupont):
    page = logged_dupont.get(URL).content.decode()
    for name in ("email_reminders", "email_low_balance", "email_bookings", "email_file"):
        assert f'name="{name}"' in page and f'for="id_{name}"' in page
    assert "reçus de paiement" in page and "toujours envoyés" in page

    response = logged_dupont.post(URL, {"email_bookings": "on", "email_file": "on"}, follow=True)

    assert "Vos choix d’e-mails sont enregistrés." in response.content.decode()
    family = Family.objects.get(pk=dupont["family"].pk)
    assert (family.email_reminders, family.email_low_balance, family.email_bookings,
            family.email_file) == (False, False, True, True)


def test_the_page_lists_what_was_sent_to_this_family_only(logged_dupont, dupont, martin):
    SentNotification.objects.create(family=dupont["family"], kind="reminder", key="a",
                                    subject="Rappel Dupont", recipients="dupont@example.org")
    SentNotification.objects.create(family=martin["family"], kind="reminder", key="b",
                                    subject="Rappel Martin", recipients="martin@example.org")

    page = logged_dupont.get(URL).content.decode()

    assert "Rappel Dupont" in page and "Rappel Martin" not in page


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_an_agent_sees_what_was_sent_to_a_family_on_its_file_screen(dupont, martin, agent, client):
    SentNotification.objects.create(family=dupont["family"], kind="low_balance", key="a",
                                    subject="Plus que 2 tickets « Repas »", recipients="dupont@example.org")
    SentNotification.objects.create(family=martin["family"], kind="reminder", key="b",
                                    subject="Rappel Martin", recipients="martin@example.org")
    client.force_login(agent)

    page = client.get(reverse("portal_families:review", args=[dupont["family"].pk])).content.decode()

    assert "E-mails envoyés à la famille" in page
    assert "Plus que 2 tickets « Repas »" in page and "Solde de tickets bas" in page
    assert "Rappel Martin" not in page


def test_a_family_cannot_open_the_agents_file_screen(logged_dupont, dupont):
    response = logged_dupont.get(reverse("portal_families:review", args=[dupont["family"].pk]))
    assert response.status_code in (302, 403)


def test_a_payment_receipt_is_recorded_with_the_familys_notifications_and_cannot_be_switched_off(
        dupont, agent, meal, client, demo_site, django_capture_on_commit_callbacks):
    from django.core import mail

    from portal.models import Purchase
    from portal.services.payments import purchases

    Family.objects.filter(pk=dupont["family"].pk).update(
        email_reminders=False, email_low_balance=False, email_bookings=False, email_file=False)
    dupont["family"].refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        purchase = purchases.record_town_hall_payment(dupont["family"], meal, 4, Purchase.Method.CASH,
                                                      by=agent, unit_cents=300)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    label = purchase.receipt.label
    assert message.subject == f"Votre reçu n° {label}"
    assert message.attachments[0][0] == f"recu-{label}.pdf"
    assert "Ville de Saint-Exemple" in message.body  # the town's signature
    record = SentNotification.objects.get(family=dupont["family"])
    assert (record.kind, record.subject, record.recipients) == (
        "receipt", f"Votre reçu n° {label}", "dupont@example.org")

    client.force_login(dupont["user"])
    assert f"Votre reçu n° {label}" in client.get(URL).content.decode()
    client.force_login(agent)
    page = client.get(reverse("portal_families:review", args=[dupont["family"].pk])).content.decode()
    assert "Reçu de paiement" in page and f"Votre reçu n° {label}" in page
