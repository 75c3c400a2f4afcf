"""The site header shows each role its own links: an Animateur gets the day lists, not the
family's Planning and Porte-monnaie (which are 404 for them)."""

import pytest
from django.urls import reverse

from tests.portal.fixtures_attendance import *  # noqa: F403

pytestmark = pytest.mark.django_db


def test_an_animateur_sees_the_day_lists_link_and_no_family_link(client, animateur):
    client.force_login(animateur)

    page = client.get(reverse("staff:home")).content.decode()

    assert f'href="{reverse("staff:home")}" aria-current="page">Listes du jour</a>' in page
    assert reverse("portal:planning") not in page and reverse("portal:wallet") not in page
    assert client.get(reverse("portal:wallet")).status_code == 404


def test_a_family_keeps_its_planning_and_wallet_links(client, dupont):
    client.force_login(dupont["child"].family.guardians.get())

    page = client.get(reverse("portal:wallet")).content.decode()

    assert reverse("portal:planning") in page and reverse("portal:wallet") in page
    assert "Listes du jour" not in page
