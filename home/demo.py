"""Demo content for the public site: the town, its home page, news, contacts, help pages."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import Page, Site

from .models import (
    ContactPage,
    HomePage,
    HomePageQuickLink,
    NewsIndexPage,
    NewsPage,
    StandardPage,
    TownSettings,
)

DEMO_PASSWORD = "preau-demo-2026"


def rich(*paragraphs):
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def get_home():
    return HomePage.objects.get(slug="accueil")


def add_child(parent, model, slug, **fields):
    """Create the page once; later runs leave editors' changes alone."""
    existing = model.objects.child_of(parent).filter(slug=slug).first()
    if existing:
        return existing
    page = model(slug=slug, **fields)
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def demo_user(email, first_name, last_name, *, groups=(), is_superuser=False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
    user.is_staff = is_superuser or bool(groups)
    user.is_superuser = is_superuser
    user.save()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def load():
    root = Page.get_first_root_node()
    home = HomePage.objects.filter(slug="accueil").first()
    if home is None:
        # Replace Wagtail's "Welcome" page with our home page.
        home = HomePage(
            title="Bienvenue sur le portail périscolaire",
            slug="accueil",
            intro=rich(
                "Cantine, garderie du matin et du soir, accueil du mercredi : consultez les "
                "menus, le règlement, et réservez les journées de vos enfants depuis votre "
                "téléphone."
            ),
        )
        root.add_child(instance=home)
        home.save_revision().publish()
        Site.objects.filter(is_default_site=True).delete()
        Page.objects.filter(depth=2).exclude(pk=home.pk).delete()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home,
                  "site_name": "Ville de Saint-Exemple"},
    )
    site = Site.objects.get(is_default_site=True)
    TownSettings.objects.update_or_create(site=site, defaults={
        "town_name": "Ville de Saint-Exemple",
        "town_hall_phone": "01 23 45 67 89",
        "town_hall_email": "periscolaire@saint-exemple.example.org",
        "town_hall_address": "Mairie de Saint-Exemple\n1 place de la République\n99999 Saint-Exemple",
        "opening_hours": "Lundi au vendredi, 8 h 30 – 12 h et 13 h 30 – 17 h\nSamedi 9 h – 12 h",
        "emergency_phone": "06 12 34 56 78",
        "holiday_zone": "B",
        "receipt_header": "Régie périscolaire de la Ville de Saint-Exemple\n"
                          "1 place de la République, 99999 Saint-Exemple",
    })

    news_index = add_child(home, NewsIndexPage, "actualites", title="Actualités",
                           intro="Les nouvelles du périscolaire de Saint-Exemple.")
    today = timezone.localdate()
    news = [
        ("inscriptions-ouvertes", "Les réservations de décembre sont ouvertes",
         "Réservez les repas et la garderie de décembre avant le 25 novembre.", 2),
        ("semaine-du-gout", "Semaine du goût à la cantine",
         "Des produits locaux et bio toute la semaine, préparés par notre cuisine centrale.", 9),
        ("nouveau-portail", "Un nouveau portail pour les familles",
         "Achetez vos tickets en ligne, réservez en un clic, suivez votre porte-monnaie.", 20),
    ]
    for slug, title, summary, days_ago in news:
        add_child(news_index, NewsPage, slug, title=title, summary=summary,
                  date=today - datetime.timedelta(days=days_ago),
                  body=[("paragraph", rich(summary, "Plus d’informations en mairie."))])

    contact = add_child(home, ContactPage, "contact", title="Contacts",
                        intro="Le service périscolaire vous répond du lundi au samedi.",
                        body=[("heading", "Écoles"),
                              ("paragraph", rich("École Jules-Ferry : 01 23 45 60 01",
                                                 "École Louise-Michel : 01 23 45 60 02"))])
    tarifs = add_child(home, StandardPage, "inscriptions-et-tarifs",
                       title="Inscriptions et tarifs",
                       intro="Comment inscrire vos enfants et combien coûtent les services.",
                       body=[("heading", "Les tickets"),
                             ("paragraph", rich(
                                 "Chaque réservation utilise un ticket prépayé. Les tarifs "
                                 "dépendent de votre quotient familial.",
                                 "Les tickets achetés en trop ne sont pas remboursés : "
                                 "achetez ce dont vous avez besoin.")),
                             ("callout", {"title": "Date limite",
                                          "text": rich("Réservez au plus tard 2 jours ouvrés "
                                                       "avant, à 10 h.")})])
    add_child(home, StandardPage, "accessibilite", title="Accessibilité",
              intro="Déclaration d’accessibilité du portail (RGAA 4.1).",
              body=[("paragraph", rich(
                  "La Ville de Saint-Exemple s’engage à rendre son portail accessible. "
                  "Ce site est partiellement conforme au RGAA 4.1.",
                  "Si vous n’arrivez pas à accéder à un contenu, écrivez à la mairie : "
                  "nous vous le fournirons sous une autre forme."))])

    # The group and its permissions come from the migrations (home 0003), as in a real town.
    demo_user("editeur.demo@example.org", "Élise", "Éditrice", groups=["Éditeurs"])

    if not HomePageQuickLink.objects.filter(page=home).exists():
        HomePageQuickLink.objects.create(page=home, title="Mon espace famille", link_url="/famille/",
                                description="Réserver, payer, suivre le dossier", sort_order=0)
        HomePageQuickLink.objects.create(page=home, title="Menus de la cantine", link_url="/menus/",
                                description="Cette semaine et la suivante", sort_order=1)
        HomePageQuickLink.objects.create(page=home, title="Inscriptions et tarifs", link_page=tarifs,
                                description="Tickets, quotient familial", sort_order=2)
        HomePageQuickLink.objects.create(page=home, title="Aide en vidéo", link_url="/tutoriels/",
                                description="Pas à pas pour tout faire", sort_order=3)
        HomePageQuickLink.objects.create(page=home, title="Documents utiles", link_url="/documents-utiles/",
                                description="Règlement, guide", sort_order=4)
        HomePageQuickLink.objects.create(page=home, title="Nous contacter", link_page=contact,
                                description="Mairie et urgence périscolaire", sort_order=5)
