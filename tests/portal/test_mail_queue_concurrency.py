"""An agent presses « Envoyer à nouveau » while the worker is talking to the mail server about
that very message (its row locked for up to EMAIL_TIMEOUT): the page answers at once that it is
being sent, instead of waiting on the lock into the busy page."""

import pytest
from django.db import connection
from django.urls import reverse

from portal.models import OutgoingEmail
from tests.factories import UserFactory
from tests.portal.test_concurrency import row_locked

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="row locks need PostgreSQL (set DATABASE_URL)"),
]


def test_send_again_while_the_worker_sends_says_so_and_changes_nothing(client):
    email = OutgoingEmail.objects.create(template="reminder", recipients=["a@example.org"],
                                         subject="Rappel", status=OutgoingEmail.Status.FAILED,
                                         attempts=6)
    with row_locked(email):  # the worker is talking to the mail server about it
        # A superuser: another transactional test's flush may have emptied the Agents group.
        client.force_login(UserFactory(email="accueil@example.org", is_staff=True, is_superuser=True))
        response = client.post(reverse("emails:edit", args=[email.pk]), follow=True)

    assert response.status_code == 200
    assert "Cet e-mail est en cours d’envoi" in response.content.decode()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.FAILED, 6)
