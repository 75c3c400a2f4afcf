"""What each group may do, model by model, as the data migrations set the groups up: the
editors run the public site and see nothing of families or money; the agents run families,
planning and payments and do not edit the public site."""

import pytest
from django.apps import apps
from django.urls import reverse
from wagtail.models import Page, Workflow

from tests.factories import UserFactory, make_editor

ACTIONS = ("add", "change", "delete", "view")
ALL = set(ACTIONS)
EDITOR_MODELS = {
    "menus.weekmenu": ALL, "menus.dish": ALL, "menus.allergen": {"view"},
    "tutorials.tutorialvideo": ALL, "home.townsettings": {"change"},
    "wagtaildocs.document": {"add", "change", "delete"},
    "wagtailimages.image": {"add", "change", "delete"},
}
AGENT_MODELS = {
    "portal.family": {"add", "change", "view"}, "portal.child": {"add", "change", "view"},
    "portal.authorisedperson": ALL, "portal.school": {"add", "change", "view"},
    "portal.schoolyear": {"add", "change", "view"}, "portal.filerequirement": ALL,
    "portal.fileitem": {"change", "view"}, "portal.regulationacceptance": {"view"},
    "portal.invitation": {"view"}, "portal.auditlog": {"view"},
    "portal.service": ALL, "portal.closure": ALL, "portal.tickettype": ALL,
    "portal.tariffbracket": ALL, "portal.price": ALL, "portal.wallet": ALL, "portal.booking": ALL,
    "portal.purchase": {"add", "change", "view"}, "portal.receipt": {"view"},
    "portal.refund": {"view"}, "portal.dispute": {"view"}, "portal.stripeevent": {"view"},
    "portal.outgoingemail": {"view", "change"},
    "portal.staffassignment": ALL, "portal.absencereport": {"change", "view"},
    "portal.waitlistentry": {"change", "view"},
}
ANIMATEUR_MODELS = {"portal.authorisedperson": {"view"}}
MODERATOR_MODELS = {"wagtaildocs.document": {"add", "change", "delete"},
                    "wagtailimages.image": {"add", "change", "delete"}}
CHECKED_APPS = ("portal", "menus", "tutorials", "home", "documents", "wagtaildocs", "wagtailimages")


def checked_models():
    return [m for m in apps.get_models() if m._meta.app_label in CHECKED_APPS and not m._meta.abstract
            and "view" in m._meta.default_permissions]


def granted(user, model):
    return {a for a in ACTIONS
            if user.has_perm(f"{model._meta.app_label}.{a}_{model._meta.model_name}")}


@pytest.mark.parametrize("group, expected", [
    ("Éditeurs", EDITOR_MODELS), ("Agents", AGENT_MODELS), ("Animateurs", ANIMATEUR_MODELS),
    ("Modérateurs", MODERATOR_MODELS)])
def test_each_group_holds_exactly_its_permissions_model_by_model(db, group, expected):
    from django.contrib.auth.models import Group

    user = UserFactory(email="membre@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    wrong = {}
    for model in checked_models():
        label = model._meta.label_lower
        if granted(user, model) != expected.get(label, set()):
            wrong[label] = (granted(user, model), expected.get(label, set()))
    assert wrong == {}
    assert user.has_perm("wagtailadmin.access_admin") == (group != "Animateurs")


def test_editors_see_nothing_of_families_or_money(db, client):
    client.force_login(make_editor())
    for url in ("/admin/familles/", "/admin/reservations/", "/admin/paiements/",
                "/admin/porte-monnaie/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "Famille" not in response.content.decode()


def test_an_editor_opens_menus_dishes_tutorial_videos_and_the_town_settings(demo_site, client):
    client.force_login(make_editor())
    for name in ("wagtailsnippets_menus_weekmenu:list", "wagtailsnippets_menus_dish:list",
                 "wagtailsnippets_tutorials_tutorialvideo:list",
                 "wagtailsnippets_menus_weekmenu:add"):
        assert client.get(reverse(name)).status_code == 200, name
    settings_url = reverse("wagtailsettings:edit", args=["home", "townsettings", demo_site.pk])
    page = client.get(settings_url)
    assert page.status_code == 200 and "téléphone d’urgence" in page.content.decode().lower()


def test_an_editor_publishes_a_tutorial_page_without_anyone_s_approval(demo_site, client):
    from tutorials.models import TutorialIndexPage

    editor = make_editor()
    client.force_login(editor)
    index = TutorialIndexPage.objects.get()
    add_url = reverse("wagtailadmin_pages:add", args=["tutorials", "tutorialpage", index.pk])
    form = client.get(add_url).content.decode()
    assert "Moderators" not in form and "Publier" in form
    response = client.post(add_url, {
        "title": "Payer en ligne", "slug": "payer-en-ligne", "summary": "Acheter des tickets",
        "steps-count": "0", "action-publish": "publish"})
    assert response.status_code == 302
    page = Page.objects.get(slug="payer-en-ligne")
    assert page.live and page.first_published_at is not None


def test_moderation_is_off_and_named_in_french_for_towns_that_turn_it_on(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) == {
        "Éditeurs", "Modérateurs", "Agents", "Animateurs"}
    assert not Group.objects.filter(name__in=["Editors", "Moderators"]).exists()
    workflow = Workflow.objects.get()
    assert workflow.name == "Validation des modérateurs" and not workflow.active
    assert [t.name for t in workflow.tasks] == ["Validation des modérateurs"]
