"""Weak passwords found by the attack pass the length rule; they must be refused with a reason."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD


def change_password(client, new):
    return client.post(reverse("portal:password_change"), {
        "old_password": PASSWORD, "new_password1": new, "new_password2": new})


@pytest.mark.parametrize("weak,reason", [
    ("123456789012", "que de chiffres"),
    ("aaaaaaaaaaaa", "répéter un même caractère"),
    ("abcabcabcabc", "répéter un même caractère"),
    ("motdepasse12", "trop courant"),
    ("Soleil2024!!", "trop courant"),
    ("marseille13000", "trop courant"),
    ("azertyuiopqs", "rangée du clavier"),
    ("mlkjhgfdsqpo", "rangée du clavier"),
])
def test_a_weak_password_is_refused_with_its_reason(client, parent_a, weak, reason):
    client.force_login(parent_a)
    response = change_password(client, weak)
    assert response.status_code == 200
    assert reason in response.content.decode()
    parent_a.refresh_from_db()
    assert parent_a.check_password(PASSWORD)


def test_a_passphrase_is_accepted(client, parent_a):
    client.force_login(parent_a)
    assert change_password(client, "girafe cartable 7 nuages").status_code == 302
    parent_a.refresh_from_db()
    assert parent_a.check_password("girafe cartable 7 nuages")


def test_the_french_list_ships_with_the_code():
    from portal.validators import FRENCH_LIST

    words = FRENCH_LIST.read_text(encoding="utf-8").split()
    assert {"motdepasse", "azerty", "soleil", "doudou"} <= set(words)
