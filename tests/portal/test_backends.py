"""The site's authentication backend loads the same user as Django's ModelBackend, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.backends import UserBackend
from portal.models import User

pytestmark = pytest.mark.django_db


def test_get_user_gives_the_same_user_as_django_in_one_query():
    user = User.objects.create_user(email="parent@example.org", password="x" * 12, first_name="Zoé",
                                    last_name="Dupont")
    with CaptureQueriesContext(connection) as queries:
        loaded = UserBackend().get_user(user.pk)
    assert len(queries) == 1
    expected = ModelBackend().get_user(user.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert type(loaded.last_login) is type(expected.last_login)
    assert loaded.get_session_auth_hash() == expected.get_session_auth_hash()
    assert loaded._state.adding is False and loaded._state.db == "default"


@pytest.mark.parametrize("user_id", [0, -1, 2**63, "1", None, 999_999])
def test_unknown_or_malformed_ids_give_no_user(user_id):
    assert UserBackend().get_user(user_id) is None


def test_an_inactive_user_is_not_loaded():
    user = User.objects.create_user(email="gone@example.org", password="x" * 12, is_active=False)
    assert UserBackend().get_user(user.pk) is None


def test_a_deactivated_family_member_is_logged_out_on_the_next_request(client):
    user = User.objects.create_user(email="parent@example.org", password="x" * 12)
    client.force_login(user)
    first = client.get("/famille/")
    assert "connexion" not in first.get("Location", "")  # logged in
    user.is_active = False
    user.save()
    response = client.get("/famille/")
    assert response.status_code == 302 and "connexion" in response["Location"]
