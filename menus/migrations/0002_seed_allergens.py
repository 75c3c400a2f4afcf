from django.db import migrations

# The 14 allergens of EU regulation 1169/2011, annex II (French wording of the regulation).
ALLERGENS = [
    ("gluten", "Céréales contenant du gluten (blé, seigle, orge, avoine, épeautre, kamut)", "Gluten"),
    ("crustaces", "Crustacés et produits à base de crustacés", "Crustacés"),
    ("oeufs", "Œufs et produits à base d’œufs", "Œufs"),
    ("poissons", "Poissons et produits à base de poissons", "Poissons"),
    ("arachides", "Arachides et produits à base d’arachides", "Arachides"),
    ("soja", "Soja et produits à base de soja", "Soja"),
    ("lait", "Lait et produits à base de lait (y compris le lactose)", "Lait"),
    ("fruits-a-coque", "Fruits à coque (amandes, noisettes, noix, noix de cajou, de pécan, du Brésil, "
                       "pistaches, noix de macadamia)", "Fruits à coque"),
    ("celeri", "Céleri et produits à base de céleri", "Céleri"),
    ("moutarde", "Moutarde et produits à base de moutarde", "Moutarde"),
    ("sesame", "Graines de sésame et produits à base de graines de sésame", "Sésame"),
    ("sulfites", "Anhydride sulfureux et sulfites (plus de 10 mg/kg ou 10 mg/l)", "Sulfites"),
    ("lupin", "Lupin et produits à base de lupin", "Lupin"),
    ("mollusques", "Mollusques et produits à base de mollusques", "Mollusques"),
]


def seed(apps, schema_editor):
    Allergen = apps.get_model("menus", "Allergen")
    for code, name, short_label in ALLERGENS:
        Allergen.objects.update_or_create(code=code, defaults={"name": name, "short_label": short_label})


def unseed(apps, schema_editor):
    apps.get_model("menus", "Allergen").objects.filter(code__in=[a[0] for a in ALLERGENS]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("menus", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
