"""`{% fragment "includes/footer.html" value … %}`: an include rendered once per language and
set of values, then reused from process memory.

The page chrome (header navigation, footer) is the same on every page for a given town, language
and kind of visitor; rendering it cost ~1 ms of each portal page. The values passed are exactly
what the fragment depends on (the town's contact fields, the visitor's kind, the current nav
item), so a change of any of them renders it anew: no invalidation to forget. Anything per
request (CSRF token, search query, current path) must stay outside the fragment.
"""

from django import template
from django.template.loader import get_template
from django.utils.translation import get_language

register = template.Library()

_rendered = {}
MAX_ENTRIES = 256


@register.simple_tag(takes_context=True)
def fragment(context, template_name, *values):
    key = (template_name, get_language(), *(str(v) for v in values))
    html = _rendered.get(key)
    if html is None:
        html = get_template(template_name).template.render(context)
        if len(_rendered) >= MAX_ENTRIES:
            _rendered.clear()
        _rendered[key] = html
    return html
