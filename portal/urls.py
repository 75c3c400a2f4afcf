from django.urls import path

from .views import absence, account, dossier, family, notifications, payment, planning, security, wallet

app_name = "portal"

urlpatterns = [
    path("", family.dashboard, name="dashboard"),
    path("connexion/", account.LoginView.as_view(), name="login"),
    path("deconnexion/", account.LogoutView.as_view(), name="logout"),
    path("invitation/<str:token>/", account.invitation, name="invitation"),
    path("inscription/", account.signup, name="signup"),
    path("mot-de-passe/oublie/", account.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oublie/envoye/", account.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("mot-de-passe/nouveau/<uidb64>/<token>/", account.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("mot-de-passe/nouveau/termine/", account.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("compte/", account.account, name="account"),
    path("compte/mot-de-passe/", account.PasswordChangeView.as_view(), name="password_change"),
    path("compte/e-mail/", account.email_change, name="email_change"),
    path("compte/e-mail/<str:token>/", account.email_change_confirm, name="email_change_confirm"),
    path("compte/double-authentification/", security.otp_verify, name="otp_verify"),
    path("foyer/", family.family_edit, name="family"),
    path("notifications/", notifications.preferences, name="notifications"),
    path("notifications/agenda/", notifications.calendar_token, name="calendar_token"),
    path("agenda/<str:token>.ics", notifications.calendar_feed, name="calendar_feed"),
    path("enfants/ajouter/", family.child_add, name="child_add"),
    path("enfants/<int:child_id>/", family.child_edit, name="child_edit"),
    path("enfants/<int:child_id>/pai/", family.child_pai, name="child_pai"),
    path("dossier/", dossier.dossier_view, name="dossier"),
    path("dossier/pieces/<int:requirement_id>/", dossier.file_upload, name="file_upload"),
    path("dossier/fichiers/<int:item_id>/", dossier.file_download, name="file_download"),
    path("dossier/reglement/", dossier.regulation, name="regulation"),
    path("dossier/recepisse/<int:acceptance_id>/", dossier.receipt, name="receipt"),
    # Planning and wallet (issue 4)
    path("planning/", planning.family_month, name="planning"),
    path("planning/enfant/<int:child_id>/", planning.child_month, name="planning_child"),
    path("planning/clic/", planning.act, name="planning_act"),
    path("planning/semaine-type/", planning.pattern, name="planning_pattern"),
    path("porte-monnaie/", wallet.wallet_page, name="wallet"),
    path("absences/", absence.absences, name="absences"),
    path("absences/<int:report_id>/certificat/", absence.absence_certificate, name="absence_certificate"),
    # Payments (issue 5)
    path("porte-monnaie/acheter/", payment.buy, name="payment_buy"),
    path("porte-monnaie/achats/", payment.purchase_list, name="payment_list"),
    path("porte-monnaie/recus/<int:purchase_id>/", payment.receipt_html, name="payment_receipt"),
    path("porte-monnaie/recus/<int:purchase_id>/pdf/", payment.receipt_pdf, name="payment_receipt_pdf"),
    path("paiement/retour/", payment.payment_return, name="payment_return"),
    path("paiement/abandon/", payment.payment_cancel, name="payment_cancel"),
    path("paiement/demo/<str:session_id>/", payment.demo_checkout, name="payment_demo"),
    path("paiement/stripe/webhook/", payment.stripe_webhook, name="stripe_webhook"),
]
