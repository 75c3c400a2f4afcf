from django.utils.functional import SimpleLazyObject

from portal.services.town import town_settings


def town(request):
    """`town`: the site's TownSettings for base.html's title, header and footer, from the cache
    (the Wagtail `settings` processor costs two queries on every page)."""
    return {"town": SimpleLazyObject(lambda: town_settings(request))}
