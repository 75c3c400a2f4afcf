from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import TutorialVideo


class TutorialVideoViewSet(SnippetViewSet):
    model = TutorialVideo
    icon = "media"
    menu_label = _("Vidéos des tutoriels")
    add_to_admin_menu = True
    menu_order = 350
    list_display = ["title", "created_at"]
    search_fields = ["title"]


register_snippet(TutorialVideoViewSet)
