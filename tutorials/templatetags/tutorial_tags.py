import hashlib
import logging

from django import template
from django.core.cache import cache
from django.utils.safestring import mark_safe
from wagtail.embeds import embeds

register = template.Library()
logger = logging.getLogger(__name__)
FAILURE_TTL = 300


@register.inclusion_tag("tutorials/includes/embed.html")
def tutorial_embed(url):
    """The provider's player, or just a link when the provider cannot be reached.

    A failure is remembered for a few minutes so that an unreachable network does not make
    every page view wait for the provider's timeout.
    """
    failure_key = "tutorial-embed-failed:" + hashlib.sha256(url.encode()).hexdigest()
    html = ""
    if not cache.get(failure_key):
        try:
            html = embeds.get_embed(url).html
        except Exception:  # any network, provider or parsing error: the link still works
            logger.warning("Embed unavailable for %s", url, exc_info=True)
            cache.set(failure_key, True, FAILURE_TTL)
    # oEmbed HTML comes from the allow-listed providers (see tutorials.models.EMBED_HOSTS).
    return {"url": url, "html": mark_safe(html)}
