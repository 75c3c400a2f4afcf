import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.models import Page
from wagtail.search import index

# Canteens serve Monday to Friday; a menu day outside that span is an input error.
SCHOOL_DAYS = 5
# Week URLs outside this span are crawler noise, and far dates would overflow `date` arithmetic.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def monday_of(day):
    return day - datetime.timedelta(days=day.weekday())


class Allergen(models.Model):
    """One of the 14 allergens of EU regulation 1169/2011, seeded by a data migration."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("nom réglementaire"), max_length=120)
    short_label = models.CharField(_("nom court"), max_length=40)

    class Meta:
        verbose_name = _("allergène")
        verbose_name_plural = _("allergènes")
        ordering = ["code"]

    def __str__(self):
        return self.short_label


class Dish(index.Indexed, models.Model):
    class Course(models.TextChoices):
        STARTER = "starter", _("Entrée")
        MAIN = "main", _("Plat")
        SIDE = "side", _("Accompagnement")
        DAIRY = "dairy", _("Produit laitier")
        DESSERT = "dessert", _("Dessert")

    name = models.CharField(_("nom"), max_length=150)
    course = models.CharField(_("type de plat"), max_length=10, choices=Course.choices)
    allergens = models.ManyToManyField(Allergen, blank=True, related_name="dishes",
                                       verbose_name=_("allergènes"))
    is_organic = models.BooleanField(_("bio"), default=False)
    is_local = models.BooleanField(_("local"), default=False)
    is_vegetarian = models.BooleanField(_("végétarien"), default=False)
    is_homemade = models.BooleanField(_("fait maison"), default=False)

    panels = [
        FieldPanel("name"),
        FieldPanel("course"),
        FieldPanel("allergens", widget=forms.CheckboxSelectMultiple),
        FieldRowPanel([FieldPanel("is_organic"), FieldPanel("is_local"),
                       FieldPanel("is_vegetarian"), FieldPanel("is_homemade")],
                      heading=_("Labels")),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("course"),
    ]

    class Meta:
        verbose_name = _("plat")
        verbose_name_plural = _("plats")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "course"], name="menus_dish_unique_name_course",
                violation_error_message=_("Ce plat existe déjà : réutilisez-le."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_course_display().lower()})"

    @property
    def labels(self):
        """Labels as words, so they never rely on colour or icons alone."""
        flags = [(self.is_organic, _("Bio")), (self.is_local, _("Local")),
                 (self.is_vegetarian, _("Végétarien")), (self.is_homemade, _("Fait maison"))]
        return [label for flag, label in flags if flag]


class WeekMenuQuerySet(models.QuerySet):
    def for_display(self, mondays, school=None):
        """Menus of these weeks with days, dishes and allergens in a fixed number of queries."""
        menus = self.filter(week__in=mondays).select_related("school")
        menus = menus.filter(Q(school__isnull=True) | Q(school=school)) if school else menus
        days = MenuDay.objects.select_related(*MenuDay.COURSE_FIELDS).order_by("date")
        menus = sorted(menus.prefetch_related(models.Prefetch("days", queryset=days)),
                       key=lambda m: (m.week, m.school is not None, m.school.name if m.school else ""))
        dishes = [dish for menu in menus for day in menu.days.all() for _label, dish in day.courses]
        # One query for the allergens of every dish, however many days and courses.
        models.prefetch_related_objects(dishes, "allergens")
        return menus


def menus_of_week(menus, monday, school=None):
    """The menus of `for_display` that a family of `school` reads for the week of `monday`: a
    school's own menu replaces the "all schools" one (the public page and the API)."""
    week_menus = [m for m in menus if m.week == monday]
    if school:
        week_menus = [m for m in week_menus if m.school_id] or week_menus
    return week_menus


class WeekMenuForm(WagtailAdminModelForm):
    def is_valid(self):
        # Inline day forms don't know their week while validating: check them here.
        valid = super().is_valid()
        seen = set()
        for form in self.formsets["days"].forms:
            date = getattr(form, "cleaned_data", {}).get("date")
            if not date or form.cleaned_data.get("DELETE"):
                continue
            if message := self.instance.day_error(date):
                form.add_error("date", message)
                valid = False
            elif date in seen:
                form.add_error("date", _("Ce jour figure déjà dans le menu."))
                valid = False
            seen.add(date)
        return valid


class WeekMenu(ClusterableModel):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        FAMILIES = "families", _("Familles connectées uniquement")

    week = models.DateField(_("semaine du lundi"), help_text=_("La date du lundi de la semaine."))
    school = models.ForeignKey(
        "portal.School", null=True, blank=True, on_delete=models.CASCADE, related_name="menus",
        verbose_name=_("école"), help_text=_("Laisser vide si le menu vaut pour toutes les écoles."),
    )
    visibility = models.CharField(_("visibilité"), max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    note = models.TextField(_("note"), blank=True,
                            help_text=_("Ex. « Semaine du goût : produits de la région »."))

    objects = WeekMenuQuerySet.as_manager()
    base_form_class = WeekMenuForm

    panels = [
        MultiFieldPanel([FieldPanel("week"), FieldPanel("school"), FieldPanel("visibility")],
                        heading=_("Semaine")),
        FieldPanel("note"),
        InlinePanel("days", label=_("Jours"), max_num=SCHOOL_DAYS),
    ]

    class Meta:
        verbose_name = _("menu de la semaine")
        verbose_name_plural = _("menus de la semaine")
        ordering = ["-week", "school__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["week", "school"], name="menus_weekmenu_unique_week_school",
                violation_error_message=_("Un menu existe déjà pour cette semaine et cette école."),
            ),
            # NULL never equals NULL in a unique index: "all schools" needs its own constraint.
            models.UniqueConstraint(
                fields=["week"], condition=Q(school__isnull=True),
                name="menus_weekmenu_unique_week_all_schools",
                violation_error_message=_("Un menu « toutes les écoles » existe déjà pour cette "
                                          "semaine."),
            ),
        ]

    def __str__(self):
        school = self.school.name if self.school_id else _("toutes les écoles")
        return _("Semaine du %(date)s — %(school)s") % {
            "date": date_format(self.week, "j F Y"), "school": school}

    def clean(self):
        super().clean()
        if self.week and self.week.weekday() != 0:
            raise ValidationError({"week": _(
                "La semaine doit commencer un lundi : le %(date)s est un %(weekday)s. "
                "Choisissez le lundi %(monday)s."
            ) % {"date": date_format(self.week, "j F Y"), "weekday": date_format(self.week, "l"),
                 "monday": date_format(monday_of(self.week), "j F Y")}})

    def day_error(self, date):
        """Why `date` cannot be a day of this menu, or None."""
        if not (self.week and date) or self.week.weekday() != 0:
            return None
        last = self.week + datetime.timedelta(days=SCHOOL_DAYS - 1)
        if not self.week <= date <= last:
            return _("Ce jour doit être entre le lundi %(first)s et le vendredi %(last)s.") % {
                "first": date_format(self.week, "j F"), "last": date_format(last, "j F Y")}
        return None

    @property
    def is_public(self):
        return self.visibility == self.Visibility.PUBLIC


class MenuDay(models.Model):
    menu = ParentalKey(WeekMenu, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("jour"))
    note = models.CharField(_("note du jour"), max_length=120, blank=True,
                            help_text=_("Ex. « Repas à thème : l’Italie »."))
    starter = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("entrée"))
    main = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("plat"))
    side = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("accompagnement"))
    dairy = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("produit laitier"))
    dessert = models.ForeignKey(Dish, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("dessert"))

    COURSE_FIELDS = ["starter", "main", "side", "dairy", "dessert"]

    panels = [
        FieldRowPanel([FieldPanel("date"), FieldPanel("note")]),
        FieldPanel("starter"),
        FieldPanel("main"),
        FieldPanel("side"),
        FieldPanel("dairy"),
        FieldPanel("dessert"),
    ]

    class Meta:
        verbose_name = _("jour de menu")
        verbose_name_plural = _("jours de menu")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "date"], name="menus_menuday_unique_date",
                                    violation_error_message=_("Ce jour figure déjà dans le menu.")),
        ]

    def __str__(self):
        return date_format(self.date, "l j F Y")

    def clean(self):
        super().clean()
        try:
            menu = self.menu
        except WeekMenu.DoesNotExist:
            return
        if message := menu.day_error(self.date):
            raise ValidationError({"date": message})

    @property
    def courses(self):
        """(label, dish) for each filled course, in serving order."""
        return [(self._meta.get_field(name).verbose_name, getattr(self, name))
                for name in self.COURSE_FIELDS if getattr(self, f"{name}_id")]


class MenusPage(RoutablePageMixin, Page):
    intro = models.TextField(_("chapeau"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["home.HomePage"]
    subpage_types = []
    max_count = 1

    class Meta:
        verbose_name = _("page des menus")

    @path("")
    def current_weeks(self, request):
        return self.render_weeks(request, monday_of(timezone.localdate()))

    @re_path(r"^semaine/(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})/$", name="week")
    def week(self, request, day):
        try:
            date = datetime.date.fromisoformat(day)
        except ValueError:
            raise Http404 from None
        if not FIRST_YEAR <= date.year <= LAST_YEAR:
            raise Http404
        if date.weekday() != 0:
            url = self.week_url(monday_of(date), request)
            if request.GET:
                url += "?" + request.GET.urlencode()
            return redirect(url)
        return self.render_weeks(request, date)

    def week_url(self, monday, request=None):
        return self.get_url(request) + self.reverse_subpage("week", kwargs={"day": monday.isoformat()})

    def render_weeks(self, request, first_monday):
        return self.render(request, context_overrides=self.weeks_context(request, first_monday))

    def weeks_context(self, request, first_monday):
        from portal.models import School

        schools = list(School.objects.only("pk", "name"))
        school, school_error = None, False
        raw_school = request.GET.get("ecole", "").strip()
        if raw_school:
            school = next((s for s in schools if str(s.pk) == raw_school), None)
            school_error = school is None

        mondays = [first_monday, first_monday + datetime.timedelta(days=7)]
        menus = WeekMenu.objects.for_display(mondays, school)
        can_see_private = request.user.is_authenticated
        this_monday = monday_of(timezone.localdate())
        query = f"?ecole={school.pk}" if school else ""
        weeks = []
        for monday in mondays:
            week_menus = menus_of_week(menus, monday, school)
            weeks.append({
                "monday": monday,
                "friday": monday + datetime.timedelta(days=SCHOOL_DAYS - 1),
                "is_current": monday == this_monday,
                "is_next": monday == this_monday + datetime.timedelta(days=7),
                "url": self.week_url(monday, request) + query,
                "menus": [{"menu": m, "hidden": not (m.is_public or can_see_private)}
                          for m in week_menus],
            })
        return {
            "weeks": weeks,
            "schools": schools,
            "school": school,
            "school_error": school_error,
            "previous_url": self.week_url(first_monday - datetime.timedelta(days=7), request) + query,
            "next_url": self.week_url(first_monday + datetime.timedelta(days=7), request) + query,
            "current_url": self.get_url(request) + query,
            "is_current": first_monday == this_monday,
            "allergens": list(Allergen.objects.all()),
        }
