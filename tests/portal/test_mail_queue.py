"""No web request talks to the mail server (portal/services/mail.py): with the mail server
refusing or silent, the pages of a saved action answer normally, the message waits in the queue,
the worker sends it once the server works, retries with back-off, and agents see what failed.

The mail server is real SMTP at a closed port (connection refused) or a port that accepts and
never answers (timeout); the queue is django-tasks' database backend where the test says so.
"""

import datetime
import socket

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from portal.models import LedgerEntry, OutgoingEmail, Purchase, Wallet
from portal.services import mail as mail_service
from tests.factories import make_agent
from tests.factories import make_family as make_family_with_file
from tests.portal.fixtures_payments import *  # noqa: F403

pytestmark = pytest.mark.django_db
SEND = "portal.services.mail.send_email"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture(params=["refused", "timeout"])
def broken_mail(request, settings):
    """Production's SMTP backend, at a server that refuses or one that never answers."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 0.5
    if request.param == "refused":
        settings.EMAIL_PORT = free_port()
        yield "ConnectionRefusedError"
        return
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever says hello
    settings.EMAIL_PORT = silent.getsockname()[1]
    yield "timed out"  # smtplib: SMTPServerDisconnected, "Connection unexpectedly closed: timed out"
    silent.close()


@pytest.fixture
def db_queue(settings):
    """The queue of production: the request only writes rows, a worker sends."""
    settings.TASKS = DB_TASKS


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=open("/dev/null", "w"),
                 stderr=open("/dev/null", "w"))


def tickets(family, ticket_type):
    return Wallet.objects.filter(family=family, ticket_type=ticket_type).values_list(
        "balance", flat=True).first() or 0


def buy_with_demo(client, dupont, meal, quantity):
    client.force_login(dupont["user"])
    response = client.post(reverse("portal:payment_buy"), {"ticket_type": meal.pk, "quantity": quantity})
    demo_url = response["Location"]
    back = client.post(demo_url, {"outcome": "paid"})
    return client.get(back["Location"])


def test_a_demo_purchase_shows_its_success_and_tickets_while_the_mail_server_fails(
        client, dupont, canteen, meal, priced, broken_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # as after a real commit
        response = buy_with_demo(client, dupont, meal, "7")
    assert response.status_code == 200
    assert "Paiement reçu : 7 tickets Repas" in response.content.decode()
    assert tickets(dupont["family"], meal) == 7
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.PURCHASE).count() == 1
    assert Purchase.objects.get().state == "paid"
    email = OutgoingEmail.objects.get(template="payment_receipt")
    assert email.status == OutgoingEmail.Status.PENDING  # waiting for its next try
    assert email.attempts == 1 and broken_mail in email.last_error
    assert email.next_attempt_at is not None


def test_an_agents_town_hall_payment_shows_its_receipt_page_once_while_the_mail_server_fails(
        client, dupont, meal, priced, broken_mail, django_capture_on_commit_callbacks):
    client.force_login(make_agent("regie@example.org"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("paiements:add"), {
            "family": dupont["family"].pk, "ticket_type": meal.pk, "quantity": "5", "method": "cash"},
            follow=True)
    assert response.status_code == 200
    purchase = Purchase.objects.get()
    html = response.content.decode()
    assert "Paiement enregistré : 5 ticket(s) crédité(s)" in html and purchase.receipt.label in html
    assert tickets(dupont["family"], meal) == 5 and purchase.state == "paid"
    assert OutgoingEmail.objects.get(template="payment_receipt").status == OutgoingEmail.Status.PENDING


def test_the_invitation_and_the_password_reset_answer_normally_while_the_mail_server_fails(
        client, broken_mail, django_capture_on_commit_callbacks):
    agent = make_agent("accueil@example.org")
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal_families:add"), {
            "name": "Famille Créée", "address": "", "postcode": "", "city": "", "phone": "",
            "guardian1_email": "cree@example.org", "guardian1_first_name": "Cé",
            "guardian1_last_name": "Créée"}, follow=True)
    assert response.status_code == 200
    assert "l’invitation est envoyée à cree@example.org" in response.content.decode()
    client.logout()
    make_family_with_file("parent@example.org", "Famille Parent")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:password_reset"), {"email": "parent@example.org"},
                               follow=True)
    assert response.status_code == 200
    assert "Si un compte existe pour cette adresse" in response.content.decode()
    waiting = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING)
    assert sorted(waiting.values_list("template", flat=True)) == ["invitation", "password_reset"]


@pytest.mark.django_db(transaction=True)  # the worker takes its own transactions
def test_the_request_sends_nothing_and_the_worker_sends_the_receipt_once_the_server_works(
        client, dupont, canteen, meal, priced, broken_mail, db_queue, settings):
    response = buy_with_demo(client, dupont, meal, "7")
    assert "Paiement reçu : 7 tickets Repas" in response.content.decode()
    email = OutgoingEmail.objects.get()
    assert email.attempts == 0  # the request did not even try: it queued a task
    assert DBTaskResult.objects.filter(task_path=SEND, status="READY").count() == 1

    run_worker()  # the mail server still fails: one try, the next one in a minute
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert broken_mail in email.last_error
    retry = DBTaskResult.objects.get(task_path=SEND, status="READY")
    assert retry.run_after == email.next_attempt_at
    assert email.next_attempt_at - timezone.now() <= datetime.timedelta(minutes=1)

    settings.EMAIL_BACKEND = LOCMEM  # the mail server is back
    run_worker()
    assert mail.outbox == []  # not before its time
    with time_machine.travel(email.next_attempt_at + datetime.timedelta(seconds=1)):
        run_worker()
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT and email.attempts == 2
    assert email.body == "" and email.attachments == []  # nothing kept once sent
    (message,) = mail.outbox
    assert message.to == ["dupont@example.org"]
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    run_worker()
    assert len(mail.outbox) == 1  # sent once


def test_after_its_last_try_a_message_is_failed_and_agents_see_it_and_send_it_again(
        client, broken_mail, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = mail_service.send_after_commit("email_changed", {"user": None, "new_email": "n@example.org"},
                                               "ancienne@example.org")
    for _try in mail_service.RETRY_DELAYS:
        mail_service.send_email.call(email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, len(mail_service.RETRY_DELAYS) + 1)

    client.force_login(make_agent("accueil@example.org"))
    listing = client.get(reverse("emails:index"), {"status": "failed"}).content.decode()
    assert email.subject in listing and "ancienne@example.org" in listing and broken_mail in listing
    detail_url = reverse("emails:edit", args=[email.pk])
    page = client.get(detail_url).content.decode()
    assert "Envoyer à nouveau" in page and email.body.strip() not in page  # the text is never shown
    settings.EMAIL_BACKEND = LOCMEM
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(detail_url, follow=True)
    assert "remis dans la file d’envoi" in response.content.decode()
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert mail.outbox[0].to == ["ancienne@example.org"]


def test_families_and_staff_without_the_permission_do_not_reach_the_e_mails(client, dupont):
    client.force_login(dupont["user"])
    assert client.get(reverse("emails:index")).status_code in (302, 403)


@pytest.mark.django_db(transaction=True)  # the worker takes its own transactions
def test_a_message_whose_task_was_never_enqueued_is_picked_up_by_the_hourly_run_and_sent_once(
        db_queue, settings, monkeypatch):
    settings.EMAIL_BACKEND = LOCMEM

    def task_table_down(email, run_after=None):
        raise OSError("the task table could not be written")

    monkeypatch.setattr(mail_service, "enqueue", task_table_down)
    lost = mail_service.send_after_commit("email_changed", {"user": None, "new_email": "n@example.org"},
                                          "perdu@example.org")
    monkeypatch.undo()
    mail_service.send_after_commit("email_changed", {"user": None, "new_email": "n@example.org"},
                                            "en-file@example.org")
    assert OutgoingEmail.objects.get(pk=lost.pk).status == OutgoingEmail.Status.PENDING
    assert DBTaskResult.objects.filter(task_path=SEND).count() == 1  # only the second one's

    call_command("send_notifications", stdout=open("/dev/null", "w"))
    run_worker()
    assert [m.to for m in mail.outbox] == [["en-file@example.org"]]  # the lost one is too recent

    later = timezone.now() + mail_service.STRANDED_AFTER + datetime.timedelta(seconds=1)
    with time_machine.travel(later):
        call_command("send_notifications", stdout=open("/dev/null", "w"))
        run_worker()
        call_command("send_notifications", stdout=open("/dev/null", "w"))
        run_worker()
    assert sorted(m.to[0] for m in mail.outbox) == ["en-file@example.org", "perdu@example.org"]
    assert OutgoingEmail.objects.get(pk=lost.pk).status == OutgoingEmail.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_message_with_a_waiting_task_is_not_enqueued_again_and_two_tasks_send_it_once(
        db_queue, settings, monkeypatch):
    settings.EMAIL_BACKEND = LOCMEM
    mail_service.send_after_commit("email_changed", {"user": None, "new_email": "n@example.org"},
                                   "a@example.org")
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1)):
        assert mail_service.requeue_stranded() == 0  # its task is waiting for the worker
    assert DBTaskResult.objects.filter(task_path=SEND).count() == 1
    run_worker()
    assert len(mail.outbox) == 1

    monkeypatch.setattr(mail_service, "enqueue", lambda email, run_after=None: None)  # lost
    late = mail_service.send_after_commit("email_changed", {"user": None, "new_email": "n@example.org"},
                                          "b@example.org")
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + mail_service.STRANDED_AFTER + datetime.timedelta(seconds=1)):
        assert mail_service.requeue_stranded() == 1
    mail_service.send_email.enqueue(late.pk)  # the lost enqueue happening after all, late
    run_worker()
    assert [m.to for m in mail.outbox] == [["a@example.org"], ["b@example.org"]]  # sent once


def test_wagtail_admins_password_reset_answers_normally_and_queues_its_mail_while_the_server_fails(
        client, broken_mail, settings, django_capture_on_commit_callbacks):
    make_agent("agent.oublieux@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("wagtailadmin_password_reset"),
                               {"email": "agent.oublieux@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_password_reset_done")
    email = OutgoingEmail.objects.get(template="password_reset")
    assert email.recipients == ["agent.oublieux@example.org"]
    assert email.status == OutgoingEmail.Status.PENDING and broken_mail in email.last_error
    assert "/admin/password_reset/confirm/" in email.body  # Wagtail admin's own link

    settings.EMAIL_BACKEND = LOCMEM  # the server is back: the worker's next try sends it
    mail_service.send_email.call(email.pk)
    (message,) = mail.outbox
    assert message.to == ["agent.oublieux@example.org"]
