import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.money import euros

from .family import School

WEEKDAY_CHOICES = [
    (0, _("lundi")), (1, _("mardi")), (2, _("mercredi")), (3, _("jeudi")),
    (4, _("vendredi")), (5, _("samedi")), (6, _("dimanche")),
]


class TicketType(models.Model):
    name = models.CharField(_("nom"), max_length=80, unique=True,
                            help_text=_("Ex. « Repas », « Garderie »"))
    description = models.CharField(_("description"), max_length=255, blank=True)
    low_balance_threshold = models.PositiveSmallIntegerField(
        _("alerte de solde bas : sous"), default=3, validators=[MaxValueValidator(100)],
        help_text=_("Les familles qui utilisent ce ticket sont prévenues par e-mail quand leur "
                    "solde passe sous ce nombre. 0 : pas d’alerte."))

    class Meta:
        verbose_name = _("type de ticket")
        verbose_name_plural = _("types de ticket")
        ordering = ["name"]

    def __str__(self):
        return self.name


class TariffBracket(models.Model):
    name = models.CharField(_("nom"), max_length=80, unique=True, help_text=_("Ex. « Tranche A »"))
    quotient_min = models.PositiveIntegerField(_("quotient familial minimum"), default=0)
    quotient_max = models.PositiveIntegerField(_("quotient familial maximum"), null=True, blank=True,
                                               help_text=_("Vide : pas de plafond."))

    class Meta:
        verbose_name = _("tranche tarifaire")
        verbose_name_plural = _("tranches tarifaires")
        ordering = ["quotient_min", "name"]

    def __str__(self):
        return self.name


class Price(models.Model):
    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, related_name="prices",
                                    verbose_name=_("type de ticket"))
    bracket = models.ForeignKey(TariffBracket, on_delete=models.CASCADE, related_name="prices",
                                verbose_name=_("tranche tarifaire"))
    unit_cents = models.PositiveIntegerField(_("prix unitaire (centimes)"),
                                             help_text=_("Ex. 345 pour 3,45 €."))

    class Meta:
        verbose_name = _("tarif")
        verbose_name_plural = _("tarifs")
        ordering = ["ticket_type", "bracket"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_type", "bracket"], name="price_unique_type_bracket"),
        ]

    def __str__(self):
        return f"{self.ticket_type} — {self.bracket} : {euros(self.unit_cents)}"


class DeadlineKind(models.TextChoices):
    DAYS_BEFORE = "days_before", _("N jours avant, à une heure donnée")
    WEEKLY = "weekly", _("Un jour de la semaine précédente, à une heure donnée")


class Service(models.Model):
    name = models.CharField(_("nom"), max_length=80, help_text=_("Ex. « Cantine »"))
    schools = models.ManyToManyField(School, related_name="services", verbose_name=_("écoles"))
    weekdays = models.CharField(
        _("jours de fonctionnement"), max_length=7, default="0134",
        validators=[RegexValidator(r"^[0-6]{1,7}$", _("Choisissez au moins un jour."))],
        help_text=_("Chiffres des jours : 0 lundi … 6 dimanche."),
    )
    start = models.DateField(_("premier jour"))
    end = models.DateField(_("dernier jour"))
    capacity = models.PositiveIntegerField(_("places par jour"), null=True, blank=True,
                                           help_text=_("Vide : pas de limite."))
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="services",
                                    verbose_name=_("type de ticket consommé"))
    order = models.PositiveSmallIntegerField(_("ordre d’affichage"), default=0)
    is_meal = models.BooleanField(_("repas"), default=False,
                                  help_text=_("Compté dans la commande au traiteur."))
    childcare_tax_credit = models.BooleanField(
        _("éligible au crédit d’impôt pour frais de garde"), default=False,
        help_text=_("Garderie, accueil du mercredi : les sommes payées figurent sur l’attestation "
                    "fiscale des enfants de moins de 6 ans. Jamais un repas (exclu par la loi)."))
    unbooked_penalty = models.PositiveSmallIntegerField(
        _("pénalité sans réservation (tickets)"), default=1, validators=[MaxValueValidator(20)],
        help_text=_("Tickets retenus, à la clôture de l’appel, pour un enfant présent sans "
                    "réservation. 0 : pas de pénalité."))
    class SickRule(models.TextChoices):
        FIRST_DAY = "first_day", _("Ticket rendu dès le premier jour d’absence signalée")
        SECOND_DAY_CERTIFICATE = "second_day_certificate", _(
            "Ticket rendu à partir du 2e jour d’absence, avec un certificat médical")

    sick_rule = models.CharField(_("absence pour maladie"), max_length=30, choices=SickRule.choices,
                                 default=SickRule.FIRST_DAY,
                                 help_text=_("Quand une absence signalée et acceptée rend le ticket."))
    shows_pickup = models.BooleanField(
        _("liste avec les personnes autorisées"), default=False,
        help_text=_("Pour la garderie du soir : la liste du jour donne les personnes autorisées à "
                    "récupérer l’enfant et leur téléphone."))

    booking_rule = models.CharField(_("règle de réservation"), max_length=20,
                                    choices=DeadlineKind.choices, default=DeadlineKind.DAYS_BEFORE)
    booking_days = models.PositiveSmallIntegerField(_("réservation : jours avant"), default=2,
                                                    validators=[MaxValueValidator(60)])
    booking_working_days = models.BooleanField(_("réservation : jours ouvrés seulement"), default=False)
    booking_weekday = models.PositiveSmallIntegerField(
        _("réservation : jour de la semaine précédente"), choices=WEEKDAY_CHOICES, default=3)
    booking_time = models.TimeField(_("réservation : heure limite"), default=datetime.time(10, 0))

    cancel_rule = models.CharField(_("règle d’annulation"), max_length=20,
                                   choices=DeadlineKind.choices, default=DeadlineKind.DAYS_BEFORE)
    cancel_days = models.PositiveSmallIntegerField(_("annulation : jours avant"), default=2,
                                                   validators=[MaxValueValidator(60)])
    cancel_working_days = models.BooleanField(_("annulation : jours ouvrés seulement"), default=False)
    cancel_weekday = models.PositiveSmallIntegerField(
        _("annulation : jour de la semaine précédente"), choices=WEEKDAY_CHOICES, default=3)
    cancel_time = models.TimeField(_("annulation : heure limite"), default=datetime.time(10, 0))

    class Meta:
        verbose_name = _("prestation")
        verbose_name_plural = _("prestations")
        ordering = ["order", "name", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")),
                                   name="service_end_after_start"),
            # Article 200 quater B du CGI: meals are not childcare costs.
            models.CheckConstraint(condition=~models.Q(is_meal=True, childcare_tax_credit=True),
                                   name="service_meal_not_tax_credit"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("Le dernier jour doit suivre le premier.")})
        if self.is_meal and self.childcare_tax_credit:
            raise ValidationError({"childcare_tax_credit": _(
                "Un repas n’est pas un frais de garde : il ne peut pas figurer sur l’attestation "
                "fiscale.")})
        self.weekdays = "".join(sorted(set(self.weekdays or "")))

    @property
    def weekday_set(self):
        return {int(c) for c in self.weekdays}

    def runs_on(self, day):
        return self.start <= day <= self.end and day.weekday() in self.weekday_set

    @staticmethod
    def school_links(school):
        """Rows of the service ↔ school link for `school` (an id, an OuterRef, or several ids):
        a child is offered the services linked to its school. The one statement of that link,
        read by the planning (for_schools) and by book_day's facts under its locks."""
        through = Service.schools.through
        if isinstance(school, (list, tuple, set, frozenset)):
            return through.objects.filter(school_id__in=school)
        return through.objects.filter(school_id=school)

    @classmethod
    def for_schools(cls, school_ids):
        """{school_id: [services]} in display order, ticket types selected, in one query."""
        by_school = {school_id: [] for school_id in school_ids}
        for link in cls.school_links(list(school_ids)).select_related("service__ticket_type"):
            by_school[link.school_id].append(link.service)
        for services in by_school.values():
            services.sort(key=lambda s: (s.order, s.name, s.pk))
        return by_school


class Closure(models.Model):
    class Kind(models.TextChoices):
        SCHOOL_HOLIDAY = "school_holiday", _("Vacances scolaires")
        PUBLIC_HOLIDAY = "public_holiday", _("Jour férié")
        ONE_OFF = "one_off", _("Fermeture exceptionnelle")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.ONE_OFF)
    reason = models.CharField(_("motif affiché aux familles"), max_length=150)
    start = models.DateField(_("du"))
    end = models.DateField(_("au (inclus)"))
    school = models.ForeignKey(School, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="closures", verbose_name=_("école"),
                               help_text=_("Vide : toutes les écoles."))
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="closures", verbose_name=_("prestation"),
                                help_text=_("Vide : toutes les prestations."))

    class Meta:
        verbose_name = _("fermeture")
        verbose_name_plural = _("fermetures")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")),
                                   name="closure_end_after_start"),
        ]
        indexes = [models.Index(fields=["start", "end"])]

    def __str__(self):
        return f"{self.reason} ({self.start:%d/%m/%Y} – {self.end:%d/%m/%Y})"

    def clean(self):
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("La fin doit suivre le début.")})

    def applies_to(self, school_id, service_id):
        return ((self.school_id is None or self.school_id == school_id)
                and (self.service_id is None or self.service_id == service_id))
