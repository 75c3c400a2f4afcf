import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import AuthorisedPerson, Child, Closure, Service
from portal.services import attendance
from portal.services.booking import cancel_booking
from tests.portal.fixtures_attendance import *  # noqa: F403
from tests.portal.fixtures_attendance import MONDAY, add_children, book

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + datetime.timedelta(days=1)


def list_url(school, service, day=MONDAY):
    return reverse("staff:day_list", args=[day.isoformat(), school.pk, service.pk])


# The list and the counts ---------------------------------------------------------------------

def test_day_list_groups_booked_children_by_class_in_school_order(meals, school, dupont, martin):
    Child.objects.filter(pk=dupont["child"].pk).update(school_class="CE1", has_pai=True,
                                                       diet=Child.Diet.PAI_BASKET)
    Child.objects.filter(pk=martin["child"].pk).update(school_class="CP", diet=Child.Diet.VEGETARIAN)
    for kid in (dupont["child"], martin["child"]):
        kid.refresh_from_db()
        book(kid, meals["canteen"])

    dl = attendance.day_list(school, meals["canteen"], MONDAY)

    assert [g.name for g in dl.groups] == ["CP", "CE1"]
    assert [r.child.first_name for r in dl.groups[0].rows] == ["Tom"]
    assert dl.groups[0].rows[0].diet_label == "Végétarien"
    assert dl.groups[1].rows[0].child.has_pai and dl.groups[1].rows[0].diet_label == "Panier repas (PAI)"
    assert dl.count == 2 and dl.pai_count == 1


def test_a_cancelled_booking_never_appears_and_the_count_follows(meals, school, dupont, martin, agent):
    booking = book(dupont["child"], meals["canteen"])
    book(martin["child"], meals["canteen"])
    cancel_booking(booking, by=agent, refund=True)

    dl = attendance.day_list(school, meals["canteen"], MONDAY)

    assert [r.child.first_name for g in dl.groups for r in g.rows] == ["Tom"]
    assert attendance.day_counts(MONDAY)[(school.pk, meals["canteen"].pk)] == 1


def test_a_closure_added_after_the_bookings_empties_the_list_and_the_counts(meals, school, dupont):
    book(dupont["child"], meals["canteen"])
    Closure.objects.create(reason="Grève", start=MONDAY, end=MONDAY, school=school)

    dl = attendance.day_list(school, meals["canteen"], MONDAY)

    assert dl.closed == "Fermé : Grève." and dl.count == 0
    assert attendance.day_counts(MONDAY).get((school.pk, meals["canteen"].pk), 0) == 0
    assert attendance.caterer_order(MONDAY, 1)[0].total == 0


def test_a_day_the_service_does_not_run_says_so(meals, school):
    wednesday = MONDAY + datetime.timedelta(days=2)
    assert attendance.day_list(school, meals["canteen"], wednesday).closed == "Pas de Cantine ce jour-là."


def test_evening_list_gives_pick_up_people_with_phones_canteen_does_not(meals, school, dupont):
    AuthorisedPerson.objects.create(child=dupont["child"], name="Mamie Dupont", relationship="grand-mère",
                                    phone="06 11 22 33 44")
    book(dupont["child"], meals["evening"])
    book(dupont["child"], meals["canteen"])

    evening = attendance.day_list(school, meals["evening"], MONDAY, with_pickup=True)
    canteen = attendance.day_list(school, meals["canteen"], MONDAY, with_pickup=True)

    assert [p.phone for p in evening.groups[0].rows[0].pickup] == ["06 11 22 33 44"]
    assert evening.with_pickup and not canteen.with_pickup


def test_counts_show_the_capacity_of_a_capped_service(meals, school, dupont, animateur, client, on_monday):
    Service.objects.filter(pk=meals["canteen"].pk).update(capacity=30)
    book(dupont["child"], meals["canteen"])
    client.force_login(animateur)

    page = client.get(reverse("staff:home")).content.decode()

    assert "1 enfant inscrit" in page and "(sur 30 places)" in page


def test_caterer_order_counts_meals_per_school_and_day_with_diets_apart(meals, school, other_school):
    veg = add_children(school, 2, "Legume", diet=Child.Diet.VEGETARIAN)
    pork = add_children(other_school, 1, "Sansporc", diet=Child.Diet.NO_PORK)
    pai = add_children(other_school, 1, "Panier", diet=Child.Diet.PAI_BASKET, has_pai=True)
    plain = add_children(school, 1, "Simple")
    for kid in veg + pork + pai + plain:
        book(kid, meals["canteen"])
    book(plain[0], meals["canteen"], TUESDAY)
    book(plain[0], meals["evening"])  # garderie: no meal

    lines = attendance.caterer_order(MONDAY, 2, [school, other_school])

    by = {(line.day, line.school.name): line for line in lines}
    jf, lm = by[(MONDAY, school.name)], by[(MONDAY, other_school.name)]
    assert (jf.total, jf.diet_counts, jf.pai) == (3, [1, 2, 0, 0], 0)
    assert (lm.total, lm.diet_counts, lm.pai) == (2, [0, 0, 1, 1], 1)
    assert by[(TUESDAY, school.name)].total == 1 and by[(TUESDAY, other_school.name)].total == 0


def test_caterer_order_skips_the_days_without_meal_service(meals, school):
    days = [line.day for line in attendance.caterer_order(MONDAY, 4, [school])]
    # The canteen runs Monday, Tuesday, Thursday, Friday: Wednesday is skipped.
    assert days == [MONDAY, TUESDAY, MONDAY + datetime.timedelta(days=3), MONDAY + datetime.timedelta(days=4)]


# Constant queries ---------------------------------------------------------------------------

def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_day_list_and_the_caterer_order_read_a_constant_number_of_queries(
        meals, school, other_school, django_assert_num_queries):
    few = add_children(school, 1, "Un")
    for kid in few:
        book(kid, meals["evening"])
        book(kid, meals["canteen"])
    small = (_queries(lambda: attendance.day_list(school, meals["evening"], MONDAY, with_pickup=True)),
             _queries(lambda: attendance.caterer_order(MONDAY, 10)))
    many = add_children(school, 12, "Douze") + add_children(other_school, 8, "Huit")
    for kid in many:
        AuthorisedPerson.objects.create(child=kid, name="Voisin", phone="0600000000")
        book(kid, meals["evening"]) if kid.school_id == school.pk else None
        book(kid, meals["canteen"])

    # Closures, bookings with their children, their pick-up people.
    with django_assert_num_queries(3):
        dl = attendance.day_list(school, meals["evening"], MONDAY, with_pickup=True)
    assert dl.count == 13
    # Meal services, closures, schools, the grouped counts.
    with django_assert_num_queries(4):
        lines = attendance.caterer_order(MONDAY, 10)
    assert sum(line.total for line in lines if line.day == MONDAY) == 21
    assert small == (3, 4)


# Pages and who sees them ------------------------------------------------------------------------

def test_animateur_sees_the_list_of_the_assigned_school_today(meals, school, dupont, animateur, client,
                                                               on_monday):
    book(dupont["child"], meals["canteen"])
    client.force_login(animateur)

    response = client.get(list_url(school, meals["canteen"]))

    assert response.status_code == 200
    assert "Dupont Léa" in response.content.decode()


def test_animateur_gets_404_for_another_school_a_later_day_and_the_caterer(
        meals, school, other_school, animateur, client, on_monday):
    client.force_login(animateur)
    assert client.get(list_url(other_school, meals["canteen"])).status_code == 404
    later, before = MONDAY + datetime.timedelta(days=3), MONDAY - datetime.timedelta(days=1)
    assert client.get(list_url(school, meals["canteen"], later)).status_code == 404
    assert client.get(list_url(school, meals["canteen"], before)).status_code == 404
    assert client.get(list_url(school, meals["canteen"], TUESDAY)).status_code == 200
    assert client.get(reverse("staff:caterer")).status_code == 404
    assert client.get(reverse("staff:home") + "?jour=2026-09-20").status_code == 404


def test_animateur_reaches_nothing_financial_nor_family_files(animateur, client, on_monday):
    client.force_login(animateur)
    for name in ("portal:wallet", "portal:payment_list", "portal:dossier", "portal:family",
                 "portal:planning", "portal:tax_attestations"):
        assert client.get(reverse(name)).status_code == 404, name
    # No Wagtail admin at all: neither payments nor families.
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_family_and_an_anonymous_visitor_get_no_staff_page(meals, school, logged_dupont, client, on_monday):
    for url in (reverse("staff:home"), list_url(school, meals["canteen"]), reverse("staff:caterer")):
        assert logged_dupont.get(url).status_code == 404
    client.logout()
    assert client.get(reverse("staff:home")).status_code == 302


def test_the_pai_detail_shows_only_where_the_town_allows_it(meals, school, dupont, animateur, client,
                                                             on_monday):
    from django.contrib.auth.models import Permission

    Child.objects.filter(pk=dupont["child"].pk).update(has_pai=True, allergies="Arachide sévère")
    book(dupont["child"], meals["canteen"])
    client.force_login(animateur)
    page = client.get(list_url(school, meals["canteen"])).content.decode()
    assert "PAI" in page and "Arachide sévère" not in page

    animateur.user_permissions.add(Permission.objects.get(codename="view_health_data"))
    animateur = type(animateur).objects.get(pk=animateur.pk)  # fresh permission cache
    client.force_login(animateur)
    assert "Arachide sévère" in client.get(list_url(school, meals["canteen"])).content.decode()


def test_agent_sees_every_school_any_day_and_the_caterer(meals, other_school, town_agent, client, on_monday):
    client.force_login(town_agent)
    far = MONDAY + datetime.timedelta(days=30)
    assert client.get(list_url(other_school, meals["canteen"], far)).status_code == 200
    assert client.get(reverse("staff:caterer")).status_code == 200
    assert client.get(reverse("staff:home") + "?jour=2026-10-20").status_code == 200


def test_a_bad_date_or_a_service_of_another_school_is_404(meals, school, town_agent, client, on_monday):
    client.force_login(town_agent)
    bad = reverse("staff:day_list", args=["2026-13-45", school.pk, meals["canteen"].pk])
    assert client.get(bad).status_code == 404
    garderie_elsewhere = meals["evening"]  # runs only at Jules-Ferry
    assert client.get(list_url(meals["canteen"].schools.exclude(pk=school.pk).get(),
                               garderie_elsewhere)).status_code == 404


def test_xlsx_export_opens_back_with_the_list(meals, school, dupont, martin, animateur, client, on_monday):
    AuthorisedPerson.objects.create(child=martin["child"], name="Oncle Paul", phone="06 99 88 77 66")
    Child.objects.filter(pk=martin["child"].pk).update(school_class="CP", has_pai=True)
    Child.objects.filter(pk=dupont["child"].pk).update(school_class="CE1")
    book(dupont["child"], meals["evening"])
    book(martin["child"], meals["evening"])
    client.force_login(animateur)

    response = client.get(list_url(school, meals["evening"]) + "?format=xlsx")

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows == [
        ["Classe", "Nom", "Prénom", "PAI", "Repas servi", "Personnes autorisées"],
        ["CP", "Martin", "Tom", "oui", "Menu du jour", "Oncle Paul 06 99 88 77 66"],
        ["CE1", "Dupont", "Léa", "non", "Menu du jour", None],
    ]


def test_csv_export_is_semicolon_separated_for_french_spreadsheets(meals, school, dupont, animateur, client,
                                                                     on_monday):
    Child.objects.filter(pk=dupont["child"].pk).update(school_class="CE1")
    book(dupont["child"], meals["canteen"])
    client.force_login(animateur)

    body = client.get(list_url(school, meals["canteen"]) + "?format=csv").content.decode("utf-8-sig")

    assert body.splitlines() == ["Classe;Nom;Prénom;PAI;Repas servi", "CE1;Dupont;Léa;non;Menu du jour"]


def test_caterer_xlsx_export_matches_the_page(meals, school, dupont, town_agent, client, on_monday):
    book(dupont["child"], meals["canteen"])
    client.force_login(town_agent)

    response = client.get(reverse("staff:caterer") + "?debut=2026-09-14&jours=1&format=xlsx")

    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Jour", "École", "Repas")
    assert [r[1:4] for r in rows[1:]] == [("École Jules-Ferry", 1, 1), ("École Louise-Michel", 0, 0)]


def test_the_printed_list_has_one_section_per_class(meals, school, dupont, martin, animateur, client,
                                                     on_monday):
    Child.objects.filter(pk=martin["child"].pk).update(school_class="CP")
    book(dupont["child"], meals["canteen"])
    book(martin["child"], meals["canteen"])
    client.force_login(animateur)

    page = client.get(list_url(school, meals["canteen"])).content.decode()

    assert page.count('class="print-class"') == 2


def test_the_agents_admin_home_shows_the_day_panel(meals, school, dupont, town_agent, client, on_monday):
    book(dupont["child"], meals["canteen"])
    client.force_login(town_agent)

    page = client.get("/admin/").content.decode()

    assert "La journée" in page and "Cantine : <strong>1</strong>" in page
    assert "Les 10 prochains jours d’école" in page


def test_an_animateur_lands_on_the_day_lists_from_the_family_space(animateur, client, on_monday):
    client.force_login(animateur)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("staff:home")
