from django.contrib.auth import views as auth_views
from django.urls import path

from .views import account

app_name = "portal"

urlpatterns = [
    path("connexion/", account.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("", account.dashboard, name="dashboard"),
]
