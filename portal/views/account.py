from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal.forms import EmailAuthenticationForm, EmailChangeForm, PasswordResetForm, ProfileForm, SignupForm
from portal.lockout import forget_failures
from portal.services import accounts, app_tokens

from .forms_input import posted

BACKEND = "portal.backends.UserBackend"


class LoginView(auth_views.LoginView):
    template_name = "portal/account/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(signup_enabled=accounts.signup_enabled(), **kwargs)

    def get_default_redirect_url(self):
        # Agents have no family space: their home is the back office.
        if self.request.user.is_staff:
            return reverse("wagtailadmin_home")
        return super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The pages kept on this device for reading offline belonged to this user.
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "portal/account/password_reset.html"
    email_template_name = "portal/emails/password_reset_body.txt"
    subject_template_name = "portal/emails/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/account/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/account/password_set.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever follows the link owns the mailbox: a lockout others caused ends now.
        forget_failures(form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/account/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/account/password_change.html"
    success_url = reverse_lazy("portal:account")

    def form_valid(self, form):
        messages.success(self.request, _("Votre mot de passe a été modifié."))
        return super().form_valid(form)


@require_http_methods(["GET", "POST"])
def invitation(request, token):
    try:
        invite = accounts.find_invitation(token)
    except accounts.AccountError as error:
        return render(request, "portal/account/invitation_invalid.html", {"error": error},
                      status=410)
    form = SetPasswordForm(invite.user, posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.accept_invitation(token, form.cleaned_data["new_password1"])
        except accounts.AccountError as error:
            return render(request, "portal/account/invitation_invalid.html", {"error": error},
                          status=410)
        login(request, user, backend=BACKEND)
        messages.success(request, _("Votre mot de passe est enregistré. Bienvenue !"))
        return redirect("portal:dashboard")
    return render(request, "portal/account/invitation.html", {"form": form, "invite": invite})


@require_http_methods(["GET", "POST"])
def signup(request):
    if not accounts.signup_enabled():
        raise Http404("Self sign-up is off.")
    form = SignupForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            accounts.register_with_town_code(**form.cleaned_data)
        except accounts.AccountError as error:
            form.add_error(None, str(error))
        else:
            return render(request, "portal/account/signup_done.html",
                          {"email": form.cleaned_data["email"]})
    return render(request, "portal/account/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = ProfileForm(posted(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Vos coordonnées sont enregistrées."))
        return redirect("portal:account")
    return render(request, "portal/account/account.html",
                  {"form": form, "app_tokens": app_tokens.user_tokens(request.user)})


@login_required
@require_POST
def revoke_app_token(request, token_id):
    """The account page's « Révoquer » button: the app using that token is logged out at once."""
    if not app_tokens.revoke_token(request.user, token_id):
        raise Http404
    messages.success(request, _("L’application est déconnectée : son jeton ne fonctionne plus."))
    return redirect("portal:account")


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = EmailChangeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        accounts.request_email_change(request.user, form.cleaned_data["email"])
        messages.info(request, _("Un lien de confirmation a été envoyé à %(email)s. Votre adresse "
                                 "ne change qu’après avoir suivi ce lien.")
                      % {"email": form.cleaned_data["email"]})
        return redirect("portal:account")
    return render(request, "portal/account/email_change.html", {"form": form})


@login_required
def email_change_confirm(request, token):
    try:
        user = accounts.confirm_email_change(request.user, token)
    except accounts.AccountError as error:
        messages.error(request, str(error))
    else:
        update_session_auth_hash(request, user)
        messages.success(request, _("Votre adresse e-mail est maintenant %(email)s.")
                         % {"email": user.email})
    return redirect("portal:account")
