"""factory_boy factories and the named personas used across the suite.

family_a and family_b are two separate families: one must never see the other's data.
"""

import datetime

import factory
from django.contrib.auth.models import Group

from portal.models import Child, Family, FileRequirement, School, SchoolYear, User

PASSWORD = "correct-horse-battery-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"parent{n}@example.org")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"École {n}")


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolYear
        django_get_or_create = ("name",)

    name = "2026-2027"
    start = datetime.date(2026, 9, 1)
    end = datetime.date(2027, 7, 3)


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Famille {n}")
    status = Family.Status.INCOMPLETE
    address = "1 rue des Écoles"
    postcode = "99999"
    city = "Saint-Exemple"

    @factory.post_generation
    def guardians(self, create, extracted, **kwargs):
        if create and extracted:
            self.guardians.add(*extracted)


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    family = factory.SubFactory(FamilyFactory)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.LazyAttribute(lambda o: o.family.name.split()[-1])
    birth_date = datetime.date(2018, 5, 4)
    school = factory.SubFactory(SchoolFactory)
    school_class = "CE1"


class FileRequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FileRequirement

    school_year = factory.SubFactory(SchoolYearFactory)
    name = factory.Sequence(lambda n: f"Pièce {n}")
    kind = FileRequirement.Kind.UPLOAD


def make_family(email, name, *, status=Family.Status.INCOMPLETE, children=1):
    guardian = UserFactory(email=email)
    family = FamilyFactory(name=name, status=status, guardians=[guardian])
    for _ in range(children):
        ChildFactory(family=family, allergies="Arachide")
    return family


def make_agent(email="agent@example.org"):
    """A town-hall agent: in the Agents group, as the data migration sets it up."""
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name="Agents"))
    return user


def make_staff(email="animateur@example.org"):
    """Periscolar staff: may see health data (allergies, PAI) but not manage families."""
    from django.contrib.auth.models import Permission

    user = UserFactory(email=email, is_staff=False)
    user.user_permissions.add(Permission.objects.get(codename="view_health_data"))
    return user


def make_editor(email="editeur@example.org"):
    """Public-site editor: in the Éditeurs group, as the data migration sets it up."""
    user = UserFactory(email=email, is_staff=True)
    user.groups.add(Group.objects.get(name="Éditeurs"))
    return user
