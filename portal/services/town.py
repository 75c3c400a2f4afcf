"""The town's settings (a Wagtail site setting), read one way: this function."""

from portal.cache import display_cache


def town_settings(request=None):
    """The TownSettings of the request's site (of the default site without a request: mail,
    PDF, tasks), or None without a site; from the cache until an editor changes them, without
    the two queries (site, settings) of every page."""
    from wagtail.models import Site

    from home.models import TownSettings

    def load():
        site = Site.find_for_request(request) if request is not None else (
            Site.objects.filter(is_default_site=True).first())
        return None if site is None else TownSettings.for_site(site)

    host = request.get_host() if request is not None else ""
    return display_cache.cached((display_cache.TOWN,), f"town:{host}", load)
