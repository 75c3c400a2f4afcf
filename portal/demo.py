"""Demo families, agent and file requirements for the town of Saint-Exemple (idempotent)."""

import datetime

from django.core.files.base import ContentFile
from django.utils import timezone

from documents.models import PreauDocument
from documents.pdf import simple_pdf
from home.demo import demo_user
from portal.models import (
    AuthorisedPerson,
    Child,
    Family,
    FileItem,
    FileRequirement,
    RegulationAcceptance,
    School,
    SchoolYear,
)

REQUIREMENTS = [
    ("Attestation d’assurance scolaire", FileRequirement.Kind.UPLOAD, 1,
     "Responsabilité civile et individuelle accident pour l’année 2026-2027."),
    ("Fiche sanitaire de liaison", FileRequirement.Kind.UPLOAD, 2,
     "Vaccinations, médecin traitant, personnes à prévenir en cas d’urgence."),
    ("Acceptation du règlement du périscolaire", FileRequirement.Kind.REGULATION, 3,
     "Lisez le règlement puis acceptez-le : un récépissé vous est remis."),
]


def _school_year():
    year, _ = SchoolYear.objects.get_or_create(
        name="2026-2027",
        defaults={"start": datetime.date(2026, 9, 1), "end": datetime.date(2027, 7, 3)})
    return year


def _family(name, email, first_name, last_name, **fields):
    guardian = demo_user(email, first_name, last_name)
    family = Family.objects.filter(guardians=guardian).first()
    if family is None:
        family = Family.objects.create(name=name, **fields)
        family.guardians.add(guardian)
    return family, guardian


def _child(family, first_name, school, **fields):
    child, _ = Child.objects.get_or_create(
        family=family, first_name=first_name,
        defaults={"last_name": family.name.split()[-1], "school": school, **fields})
    return child


def _item(family, requirement, guardian, state, *, reviewer=None):
    item, created = FileItem.objects.get_or_create(family=family, requirement=requirement)
    if created:
        content = simple_pdf(requirement.name, [(family.name, ["Document de démonstration."])])
        item.file.save(f"demo-famille-{family.pk}-piece-{requirement.pk}.pdf",
                       ContentFile(content), save=False)
        item.original_name = f"{requirement.name}.pdf"
        item.content_type = "application/pdf"
        item.state = state
        item.submitted_at = timezone.now()
        item.submitted_by = guardian
        if state == FileItem.State.ACCEPTED:
            item.reviewed_at = timezone.now()
            item.reviewed_by = reviewer
        item.save()
    return item


def complete_demo_file(family, guardian, agent):
    """Every paper accepted by the agent and the current regulation accepted: bookings open
    (idempotent, for the demo families added after the first one)."""
    for requirement in FileRequirement.objects.filter(school_year=SchoolYear.current(),
                                                      kind=FileRequirement.Kind.UPLOAD):
        _item(family, requirement, guardian, FileItem.State.ACCEPTED, reviewer=agent)
    regulation = (PreauDocument.objects.filter(kind=PreauDocument.Kind.REGULATION)
                  .order_by("-publication_date", "-pk").first())
    if regulation is not None:
        RegulationAcceptance.objects.get_or_create(
            family=family, document=regulation,
            defaults={"accepted_by": guardian, "document_title": regulation.title,
                      "version": regulation.version})



def load():
    year = _school_year()
    jules_ferry, _ = School.objects.get_or_create(name="École Jules-Ferry")
    louise_michel, _ = School.objects.get_or_create(name="École Louise-Michel")
    requirements = {}
    for name, kind, order, help_text in REQUIREMENTS:
        requirements[kind, order], _ = FileRequirement.objects.get_or_create(
            school_year=year, name=name,
            defaults={"kind": kind, "sort_order": order, "help_text": help_text})
    uploads = [r for (kind, _), r in sorted(requirements.items(), key=lambda kv: kv[0][1])
               if kind == FileRequirement.Kind.UPLOAD]

    agent = demo_user("agent.demo@example.org", "Agnès", "Agent", groups=["Agents"])
    regulation = (PreauDocument.objects.filter(kind=PreauDocument.Kind.REGULATION)
                  .order_by("-publication_date", "-pk").first())

    # A validated family: two children in two schools, every piece accepted.
    martin, parent = _family("Famille Martin", "famille.demo@example.org", "Camille", "Martin",
                             address="12 rue des Tilleuls", postcode="99999",
                             city="Saint-Exemple", phone="06 11 22 33 44",
                             status=Family.Status.VALIDATED)
    parent.phone = parent.phone or "06 11 22 33 44"
    parent.save(update_fields=["phone"])
    leo = _child(martin, "Léo", jules_ferry, birth_date=datetime.date(2018, 4, 12),
                 school_class="CE2", photo_consent=True)
    _child(martin, "Jade", louise_michel, birth_date=datetime.date(2016, 10, 3),
           school_class="CM2", allergies="Arachide (allergie sévère)", has_pai=True)
    if not leo.authorised_people.exists():
        AuthorisedPerson.objects.create(child=leo, name="Josiane Martin",
                                        relationship="grand-mère", phone="06 98 76 54 32")
    for requirement in uploads:
        _item(martin, requirement, parent, FileItem.State.ACCEPTED, reviewer=agent)
    if regulation is not None:
        RegulationAcceptance.objects.get_or_create(
            family=martin, document=regulation,
            defaults={"accepted_by": parent, "document_title": regulation.title,
                      "version": regulation.version})

    # A family still filling its file: insurance sent, health form and regulation missing.
    bernard, parent2 = _family("Famille Bernard", "famille2.demo@example.org", "Sami", "Bernard",
                               address="3 impasse du Moulin", postcode="99999",
                               city="Saint-Exemple", status=Family.Status.INCOMPLETE)
    _child(bernard, "Inès", jules_ferry, birth_date=datetime.date(2019, 1, 22), school_class="CP")
    _item(bernard, uploads[0], parent2, FileItem.State.SENT)
