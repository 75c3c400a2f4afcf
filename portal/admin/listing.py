"""What every agent listing shares: exports that stream whatever the number of rows, and the
period filters (a day, a week, from … to …) that default to the current school year."""

import datetime

import django_filters
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.mixins import ExcelDateFormatter

from portal import spreadsheet
from portal.forms import IsoDateInput
from portal.models import SchoolYear
from portal.views.downloads import as_download

EXPORT_CHUNK = 500
COUNT_CAP = 10_000


class CappedPaginator(WagtailPaginator):
    """Counts at most COUNT_CAP + 1 rows: a school year of a big town's bookings is 650,000 rows,
    and counting them all costs more than the page (50–100 ms). Past the cap the listing says
    so and asks for a narrower period instead of offering 30,000 pages."""

    @cached_property
    def count(self):
        # Unordered: which rows fill the cap does not matter, and sorting them all does.
        return min(self.object_list.order_by()[:COUNT_CAP + 1].count(), COUNT_CAP + 1)

    @property
    def capped(self):
        return self.count > COUNT_CAP


class CappedCountMixin:
    paginator_class = CappedPaginator
    results_template_name = "portal/admin/capped_listing_results.html"


class StreamingExportMixin:
    """Exports read the rows in chunks (`iterator`) instead of caching the whole queryset, and
    send them as they are read: CSV through Wagtail's StreamingHttpResponse, XLSX through
    `portal.spreadsheet.stream_xlsx` (the zip archive written while it is sent; openpyxl's
    could only be sent once its last row was written). Memory stays flat whatever the number
    of rows (tests/portal/test_admin_exports.py)."""

    def get(self, request, *args, **kwargs):
        # Straight to the rows: the listing's context would count them with len(), reading and
        # keeping every row before the first byte.
        if self.is_export:
            return self.as_spreadsheet(self.get_queryset(), request.GET.get("export"))
        return super().get(request, *args, **kwargs)

    def stream_csv(self, queryset):
        return super().stream_csv(_Chunked(queryset))

    def write_xlsx_response(self, queryset):
        fields = self.list_export
        header = [self.get_heading(queryset, field) for field in fields]
        rows = ([self.preprocess_field_value(field, value, self.FORMAT_XLSX)
                 for field, value in self.to_row_dict(item).items()] for item in _Chunked(queryset))
        response = StreamingHttpResponse(
            spreadsheet.stream_xlsx(header, rows, datetime_format=ExcelDateFormatter().get()),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return as_download(response, f"{self.get_filename()}.xlsx")


class _Chunked:
    """A queryset's rows read EXPORT_CHUNK at a time, keeping `.model` for Wagtail's headings."""

    def __init__(self, queryset):
        self.model = queryset.model
        self.queryset = queryset

    def __iter__(self):
        return self.queryset.iterator(chunk_size=EXPORT_CHUNK)


def monday(day):
    return day - datetime.timedelta(days=day.weekday())


class PeriodFilterMixin(django_filters.FilterSet):
    """A day, the week of a day, or from … to …; with none of them, the current school year.

    `period_field` is the date (or date-time) the period applies to."""

    period_field = "date"

    day = django_filters.DateFilter(label=_("Jour"), method="filter_day", widget=IsoDateInput())
    week = django_filters.DateFilter(label=_("Semaine du (un jour de la semaine)"),
                                     method="filter_week", widget=IsoDateInput())
    start = django_filters.DateFilter(label=_("Du"), method="filter_start", widget=IsoDateInput())
    end = django_filters.DateFilter(label=_("Au (inclus)"), method="filter_end", widget=IsoDateInput())

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else None
        if data is not None and not any(data.get(k) for k in ("day", "week", "start", "end")):
            year = SchoolYear.current()
            if year is not None:
                data["start"], data["end"] = year.start.isoformat(), year.end.isoformat()
        super().__init__(data, *args, **kwargs)

    def _range(self, queryset, first, last):
        field = self.period_field
        if self._is_datetime():
            return queryset.filter(**{f"{field}__gte": _midnight(first),
                                      f"{field}__lt": _midnight(last + datetime.timedelta(days=1))})
        return queryset.filter(**{f"{field}__gte": first, f"{field}__lte": last})

    def _is_datetime(self):
        from django.db.models import DateTimeField

        return isinstance(self.queryset.model._meta.get_field(self.period_field), DateTimeField)

    def filter_day(self, queryset, name, value):
        return self._range(queryset, value, value)

    def filter_week(self, queryset, name, value):
        first = monday(value)
        return self._range(queryset, first, first + datetime.timedelta(days=6))

    def filter_start(self, queryset, name, value):
        field = self.period_field
        if self._is_datetime():
            return queryset.filter(**{f"{field}__gte": _midnight(value)})
        return queryset.filter(**{f"{field}__gte": value})

    def filter_end(self, queryset, name, value):
        field = self.period_field
        if self._is_datetime():
            return queryset.filter(**{f"{field}__lt": _midnight(value + datetime.timedelta(days=1))})
        return queryset.filter(**{f"{field}__lte": value})


def _midnight(day):
    """The first instant of a day in the town's time zone (an index on the date-time serves it)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
