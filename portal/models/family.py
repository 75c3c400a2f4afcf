from django.conf import settings
from django.db import models
from django.db.models import Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from documents.models import private_storage


class SchoolYear(models.Model):
    name = models.CharField(_("nom"), max_length=20, unique=True, help_text=_("Ex. 2026-2027"))
    start = models.DateField(_("rentrée"))
    end = models.DateField(_("fin des cours"))

    class Meta:
        verbose_name = _("année scolaire")
        verbose_name_plural = _("années scolaires")
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="schoolyear_end_after_start"),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def current_id(cls, today=None):
        """The year families are filling their file for (the running one, else the next one,
        else the latest), as an expression for a query: current() and the file check under
        book_day's locks (dossier.bookings_open_q) both use it."""
        today = today or timezone.localdate()
        return Coalesce(
            Subquery(cls.objects.filter(end__gte=today).order_by("start").values("pk")[:1]),
            Subquery(cls.objects.order_by("-start").values("pk")[:1]))

    @classmethod
    def current(cls, today=None):
        return cls.objects.filter(pk=cls.current_id(today)).first()


# Each class and the one it goes to at the next school year; nothing after the arrow: the child
# leaves the school (CM2 goes to collège). Read by services.rollover.parse_class_map.
DEFAULT_CLASS_MAP = """PS → MS
MS → GS
GS → CP
CP → CE1
CE1 → CE2
CE2 → CM1
CM1 → CM2
CM2 →"""


class School(models.Model):
    name = models.CharField(_("nom"), max_length=120, unique=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    class_map = models.TextField(
        _("passage de classe à la rentrée"), blank=True, default=DEFAULT_CLASS_MAP,
        help_text=_("Une ligne par classe : « CP → CE1 ». Rien après la flèche : l’enfant quitte "
                    "l’école (ex. « CM2 → » pour l’entrée au collège, « GS → » pour une école "
                    "maternelle). Utilisé par l’assistant de changement d’année."))

    class Meta:
        verbose_name = _("école")
        verbose_name_plural = _("écoles")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Family(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invitée")
        INCOMPLETE = "incomplete", _("Dossier incomplet")
        SUBMITTED = "submitted", _("Dossier envoyé")
        VALIDATED = "validated", _("Dossier validé")
        SUSPENDED = "suspended", _("Suspendue")

    name = models.CharField(_("nom du foyer"), max_length=150)
    guardians = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="families", verbose_name=_("responsables"),
        blank=True,
    )
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("commune"), max_length=100, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    phone_secondary = models.CharField(_("autre téléphone"), max_length=30, blank=True)
    # What the family is told by e-mail (portal/services/notify.py); receipts always go.
    email_reminders = models.BooleanField(
        _("rappel avant la date limite de réservation"), default=True,
        help_text=_("Quand rien n’est réservé pour la semaine suivante pour une prestation que "
                    "l’enfant utilise d’habitude."))
    email_low_balance = models.BooleanField(
        _("alerte de solde de tickets bas"), default=True,
        help_text=_("Au plus une alerte tous les deux jours par type de ticket."))
    email_bookings = models.BooleanField(
        _("récapitulatif des réservations"), default=True,
        help_text=_("Après une annulation ou un ajustement de tickets par la mairie, et après "
                    "une semaine type."))
    email_file = models.BooleanField(
        _("suivi du dossier"), default=True,
        help_text=_("Pièce acceptée ou refusée, dossier validé."))
    # The private address of the family's calendar feed; a new one revokes the old.
    calendar_token = models.CharField(_("jeton du calendrier"), max_length=64, unique=True,
                                      null=True, blank=True, editable=False)
    email_news = models.BooleanField(_("recevoir les informations de la mairie par e-mail"),
                                     default=True)
    status = models.CharField(_("état"), max_length=20, choices=Status.choices,
                              default=Status.INVITED, db_index=True)
    self_registered = models.BooleanField(_("inscrite par elle-même"), default=False,
                                          editable=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)
    tariff_bracket = models.ForeignKey("portal.TariffBracket", on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="families",
                                       verbose_name=_("tranche tarifaire"),
                                       help_text=_("Vide : la tranche choisie d’après le quotient, "
                                                   "sinon la tranche par défaut de la commune."))
    # The quotient familial and its proof (CAF/MSA attestation), set by agents only.
    quotient = models.PositiveIntegerField(_("quotient familial"), null=True, blank=True)
    quotient_date = models.DateField(_("date du justificatif"), null=True, blank=True)
    quotient_document = models.FileField(_("justificatif du quotient familial"), blank=True,
                                         upload_to="quotient/%Y", storage=private_storage,
                                         max_length=255)
    # Set when the family's personal data was removed (portal/services/privacy.py): the row
    # stays for the town's accounts (purchases, ledger), with names replaced.
    anonymised_at = models.DateTimeField(_("anonymisée le"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("famille")
        verbose_name_plural = _("familles")
        ordering = ["name"]
        permissions = [
            ("review_family", _("Peut examiner les dossiers, valider ou suspendre une famille")),
            ("anonymise_family", _("Peut anonymiser une famille à sa demande (RGPD)")),
        ]

    def __str__(self):
        return self.name

    @property
    def is_validated(self):
        return self.status == self.Status.VALIDATED

    @property
    def guardians_emails(self):
        return ", ".join(g.email for g in self.guardians.all())


class Child(models.Model):
    class Diet(models.TextChoices):
        STANDARD = "", _("Menu du jour")
        VEGETARIAN = "vegetarian", _("Végétarien")
        NO_PORK = "no_pork", _("Sans porc")
        PAI_BASKET = "pai_basket", _("Panier repas (PAI)")

    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="children",
                               verbose_name=_("famille"))
    # Separated parents: a second household, with its own guardians, file, wallet and bookings,
    # books and pays its own days for the same child (docs/architecture.md, "Two households").
    other_family = models.ForeignKey(Family, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="shared_children", verbose_name=_("second foyer"),
                                     help_text=_("Parents séparés : l’autre foyer réserve et paie "
                                                 "ses propres jours avec son porte-monnaie."))
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    birth_date = models.DateField(_("date de naissance"))
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("école"))
    school_class = models.CharField(_("classe"), max_length=30, blank=True,
                                    help_text=_("Ex. CP, CE2, MS"))
    # Health data: shown only to the family and to users holding portal.view_health_data.
    allergies = models.TextField(_("allergies et régime"), blank=True)
    has_pai = models.BooleanField(_("PAI (projet d’accueil individualisé)"), default=False)
    pai_document = models.FileField(_("document PAI"), upload_to="pai/%Y", storage=private_storage,
                                    blank=True, max_length=255)
    # What the canteen serves; counted apart in the caterer's order.
    diet = models.CharField(_("repas servi"), max_length=20, choices=Diet.choices, blank=True,
                            default=Diet.STANDARD)
    photo_consent = models.BooleanField(_("autorise les photos"), default=False)
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now, editable=False)
    # Empty while an agent has not checked the sheet (health data, PAI) of a child a validated
    # family added (services.dossier.save_child): not bookable until then. Any other child is
    # covered by the family's own review.
    reviewed_at = models.DateTimeField(_("fiche vérifiée le"), null=True, blank=True,
                                       default=timezone.now, editable=False)
    # Set by the school-year rollover (services.rollover): the year the class is for (so a
    # second run moves nobody again), and the first day a child leaving the school (CM2)
    # no longer attends: no day from then on is offered to it.
    class_year = models.ForeignKey(SchoolYear, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", editable=False,
                                   verbose_name=_("année scolaire de la classe"))
    leaves_on = models.DateField(_("quitte l’école à partir du"), null=True, blank=True,
                                 help_text=_("Vide : l’enfant reste à l’école. Rempli par "
                                             "l’assistant de changement d’année (ex. CM2)."))

    HEALTH_FIELDS = ("allergies", "has_pai", "pai_document")

    class Meta:
        verbose_name = _("enfant")
        verbose_name_plural = _("enfants")
        ordering = ["family", "first_name"]
        permissions = [
            ("view_health_data", _("Peut voir les allergies et PAI des enfants")),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(other_family=models.F("family")),
                                   name="child_other_family_not_family"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @staticmethod
    def of_household(family_id):
        """The children a household books for: its own and those it shares as second household."""
        return models.Q(family_id=family_id) | models.Q(other_family_id=family_id)

    def households(self):
        return [f for f in (self.family_id, self.other_family_id) if f is not None]

    @property
    def household(self):
        """The household acting for this child: the guardian's one it was loaded for
        (rawsql's children of a guardian, seen_by()), else its first family."""
        return self.__dict__.get("_household") or self.family

    @property
    def household_id(self):
        household = self.__dict__.get("_household")
        return self.family_id if household is None else household.pk

    def seen_by(self, family):
        """This child as one of its households sees it (books, pays, reads its bookings)."""
        if family.pk not in self.households():
            raise ValueError("Not a household of this child.")
        self.__dict__["_household"] = family
        return self


class AuthorisedPerson(models.Model):
    """Someone other than the guardians allowed to pick the child up."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="authorised_people",
                              verbose_name=_("enfant"))
    name = models.CharField(_("nom et prénom"), max_length=150)
    relationship = models.CharField(_("lien avec l’enfant"), max_length=60, blank=True,
                                    help_text=_("Ex. grand-mère, voisin"))
    phone = models.CharField(_("téléphone"), max_length=30)

    class Meta:
        verbose_name = _("personne autorisée")
        verbose_name_plural = _("personnes autorisées à récupérer l’enfant")
        ordering = ["child", "name"]

    def __str__(self):
        return self.name
