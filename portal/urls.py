from django.contrib.auth import views as auth_views
from django.urls import path

from portal.views import planning, wallet

from .views import account

app_name = "portal"

urlpatterns = [
    path("connexion/", account.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("", account.dashboard, name="dashboard"),
    # Planning and wallet (issue 4)
    path("planning/", planning.family_month, name="planning"),
    path("planning/enfant/<int:child_id>/", planning.child_month, name="planning_child"),
    path("planning/clic/", planning.act, name="planning_act"),
    path("planning/semaine-type/", planning.pattern, name="planning_pattern"),
    path("porte-monnaie/", wallet.wallet_page, name="wallet"),
]
