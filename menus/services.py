"""Editors' shortcuts on menus, shared by the admin views and the demo."""

import datetime

from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import MenuDay, WeekMenu

ONE_WEEK = datetime.timedelta(days=7)


class MenuCopyError(Exception):
    pass


def latest_menu(school=None):
    """The most recent menu of a school (None: the "all schools" menus)."""
    return WeekMenu.objects.filter(school=school).order_by("-week").first()


def copy_to_next_week(source):
    """Create the week after `source` with the same dishes, each day shifted by seven days."""
    target_week = source.week + ONE_WEEK
    error = MenuCopyError(_("Un menu existe déjà pour la semaine du %(date)s (%(school)s).") % {
        "date": date_format(target_week, "j F Y"),
        "school": source.school.name if source.school_id else _("toutes les écoles")})
    if WeekMenu.objects.filter(week=target_week, school_id=source.school_id).exists():
        raise error
    try:
        with transaction.atomic():
            menu = WeekMenu.objects.create(week=target_week, school_id=source.school_id,
                                           visibility=source.visibility, note=source.note)
            MenuDay.objects.bulk_create(
                MenuDay(menu=menu, date=day.date + ONE_WEEK, note=day.note,
                        **{f"{name}_id": getattr(day, f"{name}_id") for name in MenuDay.COURSE_FIELDS})
                for day in source.days.all()
            )
    except IntegrityError:
        # Another editor created that week between the check and the insert.
        raise error from None
    return menu
