from django.urls import path

from .views import staff

app_name = "staff"

urlpatterns = [
    path("", staff.home, name="home"),
    path("traiteur/", staff.caterer, name="caterer"),
    path("absences/", staff.absence_queue, name="absences"),
    path("absences/<int:report_id>/", staff.absence_review, name="absence_review"),
    path("<str:day>/<int:school_id>/<int:service_id>/", staff.day_list, name="day_list"),
    path("<str:day>/<int:school_id>/<int:service_id>/appel/", staff.roll_call, name="roll_call"),
    path("<str:day>/<int:school_id>/<int:service_id>/appel/pointer/", staff.roll_call_mark,
         name="roll_call_mark"),
    path("<str:day>/<int:school_id>/<int:service_id>/appel/clore/", staff.roll_call_close,
         name="roll_call_close"),
    path("<str:day>/<int:school_id>/<int:service_id>/appel/excuser/", staff.roll_call_excuse,
         name="roll_call_excuse"),
]
