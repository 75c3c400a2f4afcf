from django.urls import path

from .views import staff

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("traiteur/", staff.caterer, name="caterer"),
    path("<str:day>/<int:school_id>/<int:service_id>/", staff.day_list, name="day_list"),
]
