"""Demo tutorials: the index and three step-by-step guides, one with a captioned video."""

import pathlib
import re

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from wagtail.images import get_image_model

from home.demo import add_child, get_home, rich

from .mockups import draw_screen, png_bytes
from .models import TutorialIndexPage, TutorialPage, TutorialVideo

ASSETS = pathlib.Path(__file__).resolve().parent / "demo_assets"

# Steps: (title, explanation, then the drawn screen: its title, field lines, button).
TUTORIALS = [
    {
        "slug": "activer-mon-compte",
        "title": "Activer mon compte",
        "summary": "Recevoir l’invitation de la mairie, choisir son mot de passe et se connecter.",
        "duration": 2,
        "video": True,
        "portal": ("/famille/connexion/", "Me connecter"),
        "transcript": (
            "Ouvrez l’e-mail de la mairie et touchez « Activer mon compte ».\n"
            "Choisissez un mot de passe d’au moins 12 caractères.\n"
            "Connectez-vous avec votre e-mail et ce mot de passe.\n"
            "Complétez votre dossier : la mairie le valide ensuite."
        ),
        "steps": [
            ("Ouvrir l’invitation", "La mairie vous envoie un e-mail « Activez votre espace "
             "famille ». Touchez le bouton « Activer mon compte ».",
             "Votre invitation", ["De : Mairie de Saint-Exemple",
                                  "Objet : activez votre espace famille"], "Activer mon compte"),
            ("Choisir un mot de passe", "Choisissez un mot de passe d’au moins 12 caractères, "
             "puis saisissez-le une seconde fois.",
             "Choisir un mot de passe", ["Nouveau mot de passe : ••••••••••••",
                                         "Confirmation : ••••••••••••"], "Enregistrer"),
            ("Se connecter", "Sur la page « Connexion », saisissez votre adresse e-mail et "
             "votre mot de passe.",
             "Connexion", ["E-mail : camille.martin@example.org",
                           "Mot de passe : ••••••••••••"], "Se connecter"),
            ("Compléter le dossier", "Ajoutez vos enfants, l’attestation d’assurance et "
             "acceptez le règlement. La mairie valide ensuite votre dossier.",
             "Mon dossier", ["Enfants : 2", "Attestation d’assurance : à déposer"],
             "Compléter mon dossier"),
        ],
    },
    {
        "slug": "acheter-des-tickets",
        "title": "Acheter des tickets",
        "summary": "Acheter juste ce qu’il faut de tickets de cantine ou de garderie, par carte.",
        "duration": 3,
        "portal": ("/famille/", "Mon espace famille"),
        "steps": [
            ("Ouvrir le porte-monnaie", "Dans votre espace famille, touchez « Porte-monnaie » : "
             "vous voyez le nombre de tickets restants pour chaque service.",
             "Porte-monnaie", ["Tickets cantine : 3", "Tickets garderie : 0"],
             "Acheter des tickets"),
            ("Choisir la quantité", "Le portail propose le nombre de tickets utiles pour vos "
             "réservations prévues. Les tickets en trop ne sont pas remboursés.",
             "Acheter des tickets", ["Tickets cantine : 8 × 3,20 €",
                                     "Total : 25,60 €"], "Payer par carte"),
            ("Payer", "Vous êtes dirigé vers la page de paiement sécurisée. Vos données de "
             "carte ne passent pas par le portail.",
             "Paiement sécurisé", ["Carte : •••• •••• •••• 4242", "Montant : 25,60 €"],
             "Payer 25,60 €"),
            ("Télécharger le reçu", "Les tickets sont ajoutés tout de suite. Le reçu est "
             "disponible dans « Mes paiements ».",
             "Paiement accepté", ["Tickets cantine : 11", "Reçu n° 2026-000123"],
             "Télécharger le reçu"),
        ],
    },
    {
        "slug": "reserver-la-cantine",
        "title": "Réserver la cantine",
        "summary": "Réserver les repas de vos enfants jour par jour ou pour toute une période.",
        "duration": 3,
        "portal": ("/famille/", "Réserver maintenant"),
        "steps": [
            ("Ouvrir le planning", "Dans votre espace famille, touchez « Planning » puis "
             "choisissez l’enfant.",
             "Planning", ["Enfant : Léa Martin (CE1)", "Service : cantine"], "Voir le mois"),
            ("Réserver un jour", "Touchez un jour « disponible » : il devient « réservé » et un "
             "ticket est décompté.",
             "Novembre 2026", ["Lundi 16 : disponible", "Mardi 17 : réservé"], "Réserver lundi"),
            ("Réserver une période", "Pour réserver tous les lundis et jeudis jusqu’aux "
             "vacances, utilisez « Réserver une période ».",
             "Réserver une période", ["Jours : lundi, jeudi", "Jusqu’au : 18 décembre 2026"],
             "Réserver"),
            ("Respecter la date limite", "Réservez ou annulez au plus tard 2 jours ouvrés avant, "
             "à 10 h. Après, le ticket est dû.",
             "Date limite", ["Jeudi 19 : plus annulable", "Vendredi 20 : annulable"],
             "Compris"),
            ("Vérifier", "Le planning indique chaque jour son état en toutes lettres. Les "
             "réservations apparaissent aussi dans votre agenda si vous vous abonnez.",
             "Mes réservations", ["Léa : 8 repas en novembre", "Tickets restants : 3"],
             "Retour au planning"),
        ],
    },
]


def alt_text(screen_title, lines, button):
    # Screen readers would spell out every "•" of a masked field.
    described = ", ".join(re.sub(r"•[•\s]*•", "(masqué)", line) for line in lines)
    return f"Écran « {screen_title} » : {described}, bouton « {button} »."


def screenshot(title, filename, screen_title, lines, button):
    Image = get_image_model()
    image = Image.objects.filter(title=title).first()
    if image is None:
        content = png_bytes(draw_screen(screen_title, lines, button))
        image = Image(title=title)
        image.file = ImageFile(ContentFile(content), name=filename)
        image.save()
    return image


def demo_video():
    video = TutorialVideo.objects.filter(title="Activer mon compte").first()
    if video is None:
        video = TutorialVideo(title="Activer mon compte")
        with open(ASSETS / "activer-mon-compte.mp4", "rb") as handle:
            video.video.save("activer-mon-compte.mp4", File(handle), save=False)
        with open(ASSETS / "activer-mon-compte.vtt", "rb") as handle:
            video.captions.save("activer-mon-compte.vtt", File(handle), save=False)
        video.save()
    return video


def load():
    index = add_child(get_home(), TutorialIndexPage, "tutoriels", title="Tutoriels",
                      intro="Des vidéos courtes et des pas-à-pas pour utiliser le portail "
                            "famille.")
    for tutorial in TUTORIALS:
        if TutorialPage.objects.child_of(index).filter(slug=tutorial["slug"]).exists():
            continue  # editors may have changed it: leave it alone
        steps = []
        for number, (title, text, screen_title, lines, button) in enumerate(tutorial["steps"], 1):
            image = screenshot(f"{tutorial['title']} — étape {number}",
                               f"{tutorial['slug']}-etape-{number}.png",
                               screen_title, lines, button)
            steps.append(("step", {
                "title": title, "text": rich(text), "screenshot": image,
                "screenshot_alt": alt_text(screen_title, lines, button),
            }))
        portal_url, portal_label = tutorial["portal"]
        add_child(index, TutorialPage, tutorial["slug"], title=tutorial["title"],
                  summary=tutorial["summary"], duration=tutorial["duration"],
                  thumbnail=steps[0][1]["screenshot"],
                  video=demo_video() if tutorial.get("video") else None,
                  transcript=tutorial.get("transcript", ""), steps=steps,
                  portal_url=portal_url, portal_label=portal_label)
