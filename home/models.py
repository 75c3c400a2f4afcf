from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel, PageChooserPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from .blocks import BodyBlock


@register_setting(icon="site")
class TownSettings(BaseSiteSetting):
    town_name = models.CharField(_("nom de la commune"), max_length=120,
                                 default="Ville de Saint-Exemple")
    town_hall_phone = models.CharField(_("téléphone de la mairie"), max_length=30, blank=True)
    town_hall_email = models.EmailField(_("e-mail de la mairie"), blank=True)
    town_hall_address = models.TextField(_("adresse de la mairie"), blank=True)
    siret = models.CharField(
        _("SIRET"), max_length=14, blank=True,
        validators=[RegexValidator(r"^[0-9]{14}$", _("Le SIRET compte 14 chiffres, sans espace."))],
        help_text=_("Imprimé sur les attestations de frais de garde (crédit d’impôt)."))
    opening_hours = models.TextField(_("horaires d’accueil"), blank=True)
    emergency_phone = models.CharField(
        _("téléphone d’urgence périscolaire"), max_length=30, blank=True,
        help_text=_("Numéro joignable pendant la cantine et la garderie."),
    )
    holiday_zone = models.CharField(
        _("zone de vacances scolaires"), max_length=1,
        choices=[("A", "Zone A"), ("B", "Zone B"), ("C", "Zone C")], default="B",
    )
    receipt_header = models.TextField(
        _("en-tête des reçus"), blank=True,
        help_text=_("Nom de la régie, adresse, SIRET… imprimés en haut des reçus."),
    )
    purchase_min_quantity = models.PositiveSmallIntegerField(
        _("achat en ligne : tickets au minimum"), default=1,
        validators=[MinValueValidator(1)],
    )
    purchase_max_quantity = models.PositiveSmallIntegerField(
        _("achat en ligne : tickets au maximum"), default=100,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("Par achat. Les tickets achetés en trop ne sont pas remboursés."),
    )
    default_tariff_bracket = models.ForeignKey(
        "portal.TariffBracket", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("tranche tarifaire par défaut"),
        help_text=_("Appliquée aux familles dont la mairie n’a pas encore fixé la tranche. Vide : "
                    "ces familles ne peuvent pas acheter de tickets."),
    )
    reminder_weekday = models.PositiveSmallIntegerField(
        _("rappel : jour"), default=1,
        choices=[(0, _("lundi")), (1, _("mardi")), (2, _("mercredi")), (3, _("jeudi")),
                 (4, _("vendredi")), (5, _("samedi")), (6, _("dimanche"))],
        help_text=_("Le jour de la semaine précédente où les familles qui n’ont rien réservé "
                    "pour la semaine suivante reçoivent un rappel. Choisissez-le avant vos "
                    "dates limites."))
    reminder_hour = models.PositiveSmallIntegerField(
        _("rappel : heure"), default=18, validators=[MaxValueValidator(23)],
        help_text=_("Heure de Paris, de 0 à 23."))

    panels = [
        MultiFieldPanel([FieldPanel("town_name"), FieldPanel("town_hall_address"), FieldPanel("siret"),
                         FieldPanel("town_hall_phone"), FieldPanel("town_hall_email"),
                         FieldPanel("opening_hours")], heading=_("Mairie")),
        FieldPanel("emergency_phone"),
        FieldPanel("holiday_zone"),
        FieldPanel("receipt_header"),
        FieldRowPanel([FieldPanel("purchase_min_quantity"), FieldPanel("purchase_max_quantity")],
                      heading=_("Achat de tickets en ligne")),
        FieldPanel("default_tariff_bracket"),
        FieldRowPanel([FieldPanel("reminder_weekday"), FieldPanel("reminder_hour")],
                      heading=_("Rappel avant la date limite de réservation")),
    ]

    class Meta:
        verbose_name = _("réglages de la commune")


class HomePageQuickLink(Orderable):
    page = ParentalKey("home.HomePage", related_name="quick_links", on_delete=models.CASCADE)
    title = models.CharField(_("titre"), max_length=80)
    description = models.CharField(_("description"), max_length=160, blank=True)
    link_page = models.ForeignKey("wagtailcore.Page", null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("page"))
    link_url = models.CharField(_("ou adresse"), max_length=255, blank=True,
                                help_text=_("Ex. /famille/ pour l’espace famille"))

    panels = [FieldPanel("title"), FieldPanel("description"), PageChooserPanel("link_page"),
              FieldPanel("link_url")]

    @property
    def url(self):
        if self.link_page_id:
            return self.link_page.url
        return self.link_url or "#"


class HomePage(Page):
    intro = RichTextField(_("introduction"), blank=True, features=["bold", "italic", "link"])
    body = StreamField(BodyBlock(), blank=True, verbose_name=_("contenu"))

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        InlinePanel("quick_links", label=_("Accès rapides")),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("page d’accueil")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["quick_links"] = self.quick_links.select_related("link_page").all()
        context["latest_news"] = (
            NewsPage.objects.live().public().order_by("-date", "-pk")[:3]
        )
        return context


class StandardPage(Page):
    intro = models.TextField(_("chapeau"), blank=True)
    body = StreamField(BodyBlock(), blank=True, verbose_name=_("contenu"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]

    class Meta:
        verbose_name = _("page standard")


class NewsIndexPage(Page):
    intro = models.TextField(_("chapeau"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["home.NewsPage"]
    max_count = 1

    class Meta:
        verbose_name = _("liste des actualités")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["news"] = NewsPage.objects.child_of(self).live().public().order_by("-date", "-pk")
        return context


class NewsPage(Page):
    date = models.DateField(_("date"))
    summary = models.CharField(_("résumé"), max_length=255, blank=True)
    body = StreamField(BodyBlock(), blank=True, verbose_name=_("contenu"))

    content_panels = Page.content_panels + [FieldPanel("date"), FieldPanel("summary"),
                                            FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("summary"),
                                          index.SearchField("body"), index.FilterField("date")]
    parent_page_types = ["home.NewsIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("actualité")
        verbose_name_plural = _("actualités")


class ContactPage(Page):
    """Town-hall contacts come from the site setting; editors add any further numbers here."""

    intro = models.TextField(_("chapeau"), blank=True)
    body = StreamField(BodyBlock(), blank=True, verbose_name=_("contenu"))

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("intro"), index.SearchField("body")]
    max_count = 1
    subpage_types = []

    class Meta:
        verbose_name = _("page contact")
