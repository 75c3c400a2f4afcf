from django.urls import path

from . import views

app_name = "tutorials"

urlpatterns = [
    path("<int:pk>/<str:filename>", views.video, name="video"),
    path("<int:pk>/sous-titres/<str:filename>", views.captions, name="captions"),
]
