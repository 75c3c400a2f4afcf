"""Demo canteen: the menus page, ~25 reusable dishes and four weeks around today."""

import datetime

from django.utils import timezone

from home.demo import add_child, get_home
from portal.models import School

from .models import Allergen, Dish, MenuDay, MenusPage, WeekMenu, monday_of

S, M, A, L, D = (Dish.Course.STARTER, Dish.Course.MAIN, Dish.Course.SIDE, Dish.Course.DAIRY,
                 Dish.Course.DESSERT)

# name: (course, allergen codes, labels among bio/local/vege/maison)
DISHES = {
    "Carottes râpées vinaigrette": (S, ["moutarde"], "bio local vege maison"),
    "Salade de lentilles": (S, ["moutarde", "celeri"], "bio vege maison"),
    "Betteraves en salade": (S, ["moutarde"], "local vege"),
    "Velouté de potiron": (S, ["lait", "celeri"], "local vege maison"),
    "Taboulé": (S, ["gluten"], "vege maison"),
    "Concombre à la crème": (S, ["lait"], "local vege"),
    "Sauté de bœuf aux oignons": (M, ["celeri"], "local maison"),
    "Filet de colin pané": (M, ["poissons", "gluten", "oeufs"], ""),
    "Poulet rôti": (M, [], "local"),
    "Lasagnes végétariennes": (M, ["gluten", "lait", "oeufs", "celeri"], "vege maison"),
    "Omelette aux fines herbes": (M, ["oeufs", "lait"], "bio vege"),
    "Dahl de lentilles corail": (M, ["moutarde"], "bio vege maison"),
    "Boulettes d’agneau au cumin": (M, ["gluten", "oeufs"], "maison"),
    "Purée de pommes de terre": (A, ["lait"], "local vege maison"),
    "Riz basmati": (A, [], "bio vege"),
    "Haricots verts persillés": (A, [], "local vege"),
    "Semoule": (A, ["gluten"], "vege"),
    "Coquillettes": (A, ["gluten", "oeufs"], "bio vege"),
    "Yaourt nature": (L, ["lait"], "bio local vege"),
    "Emmental": (L, ["lait"], "vege"),
    "Camembert": (L, ["lait"], "local vege"),
    "Pomme": (D, [], "bio local vege"),
    "Compote de poires": (D, [], "local vege maison"),
    "Gâteau au chocolat": (D, ["gluten", "oeufs", "lait"], "vege maison"),
    "Clémentines": (D, [], "vege"),
    "Crème dessert vanille": (D, ["lait"], "vege"),
}
LABEL_FIELDS = {"bio": "is_organic", "local": "is_local", "vege": "is_vegetarian", "maison": "is_homemade"}

# Four canteen days (Monday, Tuesday, Thursday, Friday), as most French schools.
WEEKS = [
    [(0, "", ["Carottes râpées vinaigrette", "Sauté de bœuf aux oignons", "Purée de pommes de terre",
              "Yaourt nature", "Pomme"]),
     (1, "", ["Velouté de potiron", "Lasagnes végétariennes", None, "Emmental", "Clémentines"]),
     (3, "", ["Betteraves en salade", "Poulet rôti", "Haricots verts persillés", "Camembert",
              "Compote de poires"]),
     (4, "", ["Concombre à la crème", "Filet de colin pané", "Riz basmati", None,
              "Gâteau au chocolat"])],
    [(0, "", ["Salade de lentilles", "Omelette aux fines herbes", "Haricots verts persillés",
              "Camembert", "Pomme"]),
     (1, "Repas à thème : l’Orient", ["Taboulé", "Boulettes d’agneau au cumin", "Semoule",
                                      "Yaourt nature", "Clémentines"]),
     (3, "", ["Carottes râpées vinaigrette", "Dahl de lentilles corail", "Riz basmati", "Emmental",
              "Compote de poires"]),
     (4, "", ["Velouté de potiron", "Filet de colin pané", "Purée de pommes de terre", None,
              "Crème dessert vanille"])],
    [(0, "", ["Betteraves en salade", "Poulet rôti", "Coquillettes", "Yaourt nature", "Pomme"]),
     (1, "", ["Concombre à la crème", "Dahl de lentilles corail", "Riz basmati", "Emmental",
              "Gâteau au chocolat"]),
     (3, "Menu 100 % local", ["Velouté de potiron", "Sauté de bœuf aux oignons",
                              "Purée de pommes de terre", "Camembert", "Compote de poires"]),
     (4, "", ["Taboulé", "Filet de colin pané", "Haricots verts persillés", None, "Clémentines"])],
    [(0, "", ["Salade de lentilles", "Lasagnes végétariennes", None, "Emmental", "Pomme"]),
     (1, "", ["Carottes râpées vinaigrette", "Boulettes d’agneau au cumin", "Semoule",
              "Yaourt nature", "Crème dessert vanille"]),
     (3, "", ["Betteraves en salade", "Omelette aux fines herbes", "Coquillettes", "Camembert",
              "Compote de poires"]),
     (4, "Repas de Noël", ["Velouté de potiron", "Poulet rôti", "Haricots verts persillés",
                           "Emmental", "Gâteau au chocolat"])],
]


def load():
    add_child(get_home(), MenusPage, "menus", title="Menus de la cantine",
              intro="Les repas de la semaine, préparés par la cuisine centrale. Les allergènes et "
                    "les labels sont indiqués pour chaque plat.")
    School.objects.get_or_create(name="École Jules-Ferry")
    louise_michel, _ = School.objects.get_or_create(name="École Louise-Michel")

    allergens = {a.code: a for a in Allergen.objects.all()}
    dishes = {}
    for name, (course, codes, labels) in DISHES.items():
        flags = {LABEL_FIELDS[label]: True for label in labels.split()}
        dish, created = Dish.objects.get_or_create(name=name, course=course, defaults=flags)
        if created:
            dish.allergens.set([allergens[code] for code in codes])
        dishes[name] = dish

    this_monday = monday_of(timezone.localdate())
    for offset, days in zip([-1, 0, 1, 2], WEEKS, strict=True):
        monday = this_monday + datetime.timedelta(weeks=offset)
        note = "Semaine du goût : des produits de la région chaque jour." if offset == 1 else ""
        add_week(monday, None, WeekMenu.Visibility.PUBLIC, note, days, dishes)
    # A school-specific menu shown to logged-in families only (it replaces the common one there).
    add_week(this_monday + datetime.timedelta(weeks=1), louise_michel, WeekMenu.Visibility.FAMILIES,
             "Classe découverte : repas froids le mardi.", WEEKS[1], dishes)


def add_week(monday, school, visibility, note, days, dishes):
    menu, created = WeekMenu.objects.get_or_create(
        week=monday, school=school, defaults={"visibility": visibility, "note": note})
    if not created:
        return menu
    MenuDay.objects.bulk_create(
        MenuDay(menu=menu, date=monday + datetime.timedelta(days=weekday), note=day_note,
                **{field: dishes[name] if name else None
                   for field, name in zip(MenuDay.COURSE_FIELDS, names, strict=True)})
        for weekday, day_note, names in days
    )
    return menu
