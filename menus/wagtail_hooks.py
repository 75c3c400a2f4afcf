from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.widgets.button import HeaderButton
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet, SnippetViewSetGroup

from .models import Dish, WeekMenu
from .views import CopyWeekView


class DishViewSet(SnippetViewSet):
    model = Dish
    icon = "list-ul"
    menu_label = _("Plats")
    list_display = ["name", "course", "is_organic", "is_local", "is_vegetarian", "is_homemade"]
    list_filter = ["course", "is_organic", "is_local", "is_vegetarian", "is_homemade", "allergens"]
    search_fields = ["name"]
    # Editors fill a week from the chooser: a longer page means fewer clicks.
    chooser_per_page = 25
    copy_view_enabled = False


class WeekMenuIndexView(IndexView):
    copy_week_url_name = None

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.permission_policy.user_has_permission(self.request.user, "add"):
            buttons.append(HeaderButton(_("Copier la semaine précédente"),
                                        url=reverse(self.copy_week_url_name), icon_name="copy"))
        return buttons

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if self.permission_policy.user_has_permission(self.request.user, "add"):
            buttons.append(MenuItem(_("Copier vers la semaine suivante"), icon_name="copy", priority=15,
                                    url=f"{reverse(self.copy_week_url_name)}?source={instance.pk}"))
        return buttons


class WeekMenuViewSet(SnippetViewSet):
    model = WeekMenu
    icon = "date"
    menu_label = _("Menus de la semaine")
    index_view_class = WeekMenuIndexView
    list_display = ["__str__", "week", "school", "visibility"]
    list_filter = ["school", "visibility", "week"]
    ordering = ["-week"]
    # Wagtail's generic copy keeps the old dates; "copy to next week" shifts them instead.
    copy_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(copy_week_url_name=self.get_url_name("copy_week"), **kwargs)

    @property
    def copy_week_view(self):
        return self.construct_view(CopyWeekView, index_url_name=self.get_url_name("list"),
                                   edit_url_name=self.get_url_name("edit"))

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("copier-semaine/", self.copy_week_view, name="copy_week"),
        ]


class CanteenViewSetGroup(SnippetViewSetGroup):
    items = (WeekMenuViewSet, DishViewSet)
    menu_icon = "list-ul"
    menu_label = _("Cantine")
    menu_name = "cantine"


register_snippet(CanteenViewSetGroup)
