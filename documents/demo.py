"""Demo documents: the regulation (families only) and a public user guide."""

import datetime

from django.core.files.base import ContentFile
from wagtail.models import Collection, CollectionViewRestriction

from home.demo import add_child, get_home

from .models import DocumentsPage, PreauDocument
from .pdf import simple_pdf

PRIVATE_COLLECTION = "Réservé aux familles"

REGULATION = [
    ("Article 1 — Objet", [
        "Le présent règlement fixe les conditions d’accès à la restauration scolaire, aux "
        "accueils du matin et du soir et à l’accueil du mercredi de la Ville de Saint-Exemple.",
    ]),
    ("Article 2 — Dossier", [
        "Chaque famille complète son dossier sur le portail : enfants, personnes autorisées, "
        "attestation d’assurance, fiche sanitaire, acceptation du présent règlement. Aucune "
        "réservation n’est possible tant que le dossier n’est pas validé par la mairie.",
    ]),
    ("Article 3 — Réservations et annulations", [
        "Les repas et la garderie se réservent au plus tard 2 jours ouvrés avant, à 10 h. "
        "Une annulation faite avant ce délai rend le ticket ; après, le ticket est dû sauf "
        "certificat médical.",
        "L’accueil du mercredi se réserve au plus tard le jeudi précédent à 23 h 59.",
    ]),
    ("Article 4 — Tickets", [
        "Les services sont prépayés par tickets, achetés en ligne ou en mairie. Le prix dépend "
        "du quotient familial. Les tickets non utilisés ne sont pas remboursés, sauf départ de "
        "la commune.",
    ]),
    ("Article 5 — Présence sans réservation", [
        "Un enfant présent sans réservation est accueilli ; un ticket majoré est alors décompté.",
    ]),
]

GUIDE = [
    ("Se connecter", ["Ouvrez l’invitation reçue par e-mail et choisissez votre mot de passe."]),
    ("Acheter des tickets", ["Menu « Porte-monnaie », choisissez la quantité, payez par carte."]),
    ("Réserver", ["Dans « Planning », touchez un jour disponible : il devient réservé."]),
]


def private_collection():
    root = Collection.get_first_root_node()
    collection = Collection.objects.filter(name=PRIVATE_COLLECTION).first()
    if collection is None:
        collection = root.add_child(name=PRIVATE_COLLECTION)
    if not collection.get_view_restrictions().exists():
        CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.LOGIN,
        )
    return collection


def add_document(title, filename, content, **fields):
    document = PreauDocument.objects.filter(title=title).first()
    if document is None:
        document = PreauDocument(title=title, **fields)
        document.file.save(filename, ContentFile(content), save=False)
        document.file_size = len(content)
        document.save()
    return document


def load():
    families_only = private_collection()
    add_document(
        "Règlement du périscolaire 2026-2027", "reglement-periscolaire-2026-2027.pdf",
        simple_pdf("Règlement du périscolaire 2026-2027", REGULATION,
                   author="Ville de Saint-Exemple"),
        kind=PreauDocument.Kind.REGULATION, version="2026-1",
        publication_date=datetime.date(2026, 7, 1), collection=families_only,
        description="Règles de réservation, d’annulation et de paiement.",
    )
    add_document(
        "Guide du portail famille", "guide-portail-famille.pdf",
        simple_pdf("Guide du portail famille", GUIDE, author="Ville de Saint-Exemple"),
        kind=PreauDocument.Kind.GUIDE, version="1",
        publication_date=datetime.date(2026, 8, 20), collection=Collection.get_first_root_node(),
        description="Se connecter, acheter des tickets et réserver, pas à pas.",
    )
    add_child(get_home(), DocumentsPage, "documents-utiles", title="Documents utiles",
              intro="Le règlement du périscolaire, les guides du portail et les formulaires "
                    "de la Ville de Saint-Exemple.")
