"""The public site's groups, in French: « Éditeurs » publish pages, menus, tutorials and documents
themselves; « Modérateurs » and the approval workflow stay ready for a town that wants a second
pair of eyes (Paramètres → Processus de validation), off by default."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITOR_MODEL_PERMISSIONS = {
    "menus": ["add_weekmenu", "change_weekmenu", "delete_weekmenu", "view_weekmenu",
              "add_dish", "change_dish", "delete_dish", "view_dish", "view_allergen"],
    "tutorials": ["add_tutorialvideo", "change_tutorialvideo", "delete_tutorialvideo",
                  "view_tutorialvideo"],
    "home": ["change_townsettings"],
    "wagtailadmin": ["access_admin"],
    "wagtaildocs": ["add_document", "change_document", "delete_document", "choose_document"],
    "wagtailimages": ["add_image", "change_image", "delete_image", "choose_image"],
}
EDITOR_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
EDITOR_COLLECTION_PERMISSIONS = {
    "wagtaildocs": ["add_document", "change_document", "delete_document", "choose_document"],
    "wagtailimages": ["add_image", "change_image", "delete_image", "choose_image"],
}
RENAMES = {"Editors": "Éditeurs", "Moderators": "Modérateurs"}


def _permissions(Permission, app_label, codenames):
    found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
    assert len(found) == len(codenames), (app_label, codenames)
    return found


def forward(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for label in ("menus", "tutorials", "home", "wagtailadmin", "wagtailcore", "wagtaildocs",
                  "wagtailimages"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state's stub lacks it
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    Task = apps.get_model("wagtailcore", "Task")

    for old, new in RENAMES.items():
        if not Group.objects.filter(name=new).exists():
            Group.objects.filter(name=old).update(name=new)
    editors, _ = Group.objects.get_or_create(name="Éditeurs")
    Group.objects.get_or_create(name="Modérateurs")

    for app_label, codenames in EDITOR_MODEL_PERMISSIONS.items():
        editors.permissions.add(*_permissions(Permission, app_label, codenames))
    root_page = Page.objects.filter(depth=1).first()
    if root_page is not None:
        for permission in _permissions(Permission, "wagtailcore", EDITOR_PAGE_PERMISSIONS):
            GroupPagePermission.objects.get_or_create(group=editors, page=root_page,
                                                      permission=permission)
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for app_label, codenames in EDITOR_COLLECTION_PERMISSIONS.items():
            for permission in _permissions(Permission, app_label, codenames):
                GroupCollectionPermission.objects.get_or_create(
                    group=editors, collection=root_collection, permission=permission)

    # Wagtail's default approval step: French names, off until the town turns it on.
    Task.objects.filter(name="Moderators approval").update(name="Validation des modérateurs")
    Workflow.objects.filter(name="Moderators approval").update(name="Validation des modérateurs",
                                                               active=False)


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0002_town_purchase_quantities"),
        ("menus", "0002_seed_allergens"),
        ("tutorials", "0001_initial"),
        ("documents", "0003_documentspage"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailadmin", "0006_formstate"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
