import re

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.forms import inlineformset_factory
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import auth as wagtail_auth_forms

from .models import AuthorisedPerson, Child, Family, School
from .services import mail


class IsoDateInput(forms.DateInput):
    """A browser date picker: it only shows a value written as ISO 2026-12-01, never 01/12/2026."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Adresse e-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect. Après 5 essais, le compte "
                           "est bloqué 15 minutes."),
        "inactive": _("Ce compte est désactivé. Contactez la mairie."),
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class FamilyForm(forms.ModelForm):
    class Meta:
        model = Family
        # The e-mail notifications have their own page (NotificationPreferencesForm).
        fields = ["address", "postcode", "city", "phone", "phone_secondary", "email_news"]
        widgets = {"phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
                   "phone_secondary": forms.TextInput(attrs={"type": "tel"}),
                   "address": forms.TextInput(attrs={"autocomplete": "address-line1"}),
                   "postcode": forms.TextInput(attrs={"autocomplete": "postal-code",
                                                      "inputmode": "numeric"})}

    # The town writes to and calls the household: a post with these left empty (a form sent
    # half-filled, a browser that lost its autofill) must not blank what the file holds.
    REQUIRED = ("address", "postcode", "city", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED:
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = _("Renseignez ce champ : la mairie en "
                                                             "a besoin pour vous joindre.")

    def clean_postcode(self):
        postcode = self.cleaned_data["postcode"].replace(" ", "")
        if not re.fullmatch(r"\d{5}", postcode):
            raise forms.ValidationError(_("Le code postal compte 5 chiffres, par exemple 75001."))
        return postcode

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if len(re.sub(r"\D", "", phone)) < 10:
            raise forms.ValidationError(_("Indiquez un numéro de téléphone complet, par exemple "
                                          "06 12 34 56 78."))
        return phone


class NotificationPreferencesForm(forms.ModelForm):
    class Meta:
        model = Family
        fields = ["email_reminders", "email_low_balance", "email_bookings", "email_file"]


class ProfileForm(forms.ModelForm):
    class Meta:
        model = get_user_model()
        fields = ["first_name", "last_name", "phone"]
        widgets = {"phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})}


class ChildForm(forms.ModelForm):
    pai_upload = forms.FileField(
        label=_("Document PAI (PDF, JPEG ou PNG)"), required=False,
        help_text=_("Seuls votre famille et les agents habilités le voient."))

    class Meta:
        model = Child
        fields = ["first_name", "last_name", "birth_date", "school", "school_class", "diet",
                  "allergies", "has_pai", "photo_consent"]
        widgets = {"birth_date": IsoDateInput(),
                   "allergies": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.all()


AuthorisedPersonFormSet = inlineformset_factory(
    Child, AuthorisedPerson, fields=["name", "relationship", "phone"], extra=1, can_delete=True,
    max_num=6,
)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier (PDF, JPEG ou PNG, 10 Mo au plus)"),
                           widget=forms.ClearableFileInput(
                               attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/*"}))


class RegulationForm(forms.Form):
    accept = forms.BooleanField(
        label=_("J’ai lu le règlement et je l’accepte."), required=True,
        error_messages={"required": _("Cochez la case pour accepter le règlement.")})


class SignupForm(forms.Form):
    town_code = forms.CharField(label=_("Code commune"), max_length=40,
                                help_text=_("Indiqué sur le courrier de la mairie."))
    family_name = forms.CharField(label=_("Nom du foyer"), max_length=150,
                                  help_text=_("Ex. Famille Martin"))
    first_name = forms.CharField(label=_("Votre prénom"), max_length=150)
    last_name = forms.CharField(label=_("Votre nom"), max_length=150)
    email = forms.EmailField(label=_("Votre adresse e-mail"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("Nouvelle adresse e-mail"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif (visible par la famille)"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class OTPTokenForm(forms.Form):
    token = forms.CharField(label=_("Code à 6 chiffres de votre application"), max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                          "inputmode": "numeric",
                                                          "autofocus": True}))


class AbsenceReportForm(forms.Form):
    child = forms.ModelChoiceField(label=_("Enfant"), queryset=Child.objects.none(), empty_label=None)
    service = forms.ModelChoiceField(label=_("Prestation"), queryset=None, empty_label=None)
    date = forms.DateField(label=_("Jour"), widget=IsoDateInput())
    reason = forms.CharField(label=_("Motif"), max_length=255,
                             help_text=_("Ex. fièvre, gastro-entérite. Pas de détail médical nécessaire."))
    certificate = forms.FileField(label=_("Certificat médical (facultatif : PDF, JPEG ou PNG)"),
                                  required=False)

    def __init__(self, *args, children, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children
        self.fields["service"].queryset = services


class QueuedResetMail:
    """A "forgotten password" form whose e-mail is queued like every other message (the worker
    sends it): the reset page never talks to the mail server."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        mail.queue_message("password_reset", render_to_string(subject_template_name, context),
                           render_to_string(email_template_name, context), to_email)


class PasswordResetForm(QueuedResetMail, auth_forms.PasswordResetForm):
    """The families' reset form (portal/views/account.py)."""


class AdminPasswordResetForm(QueuedResetMail, wagtail_auth_forms.PasswordResetForm):
    """Wagtail admin's own reset form (WAGTAILADMIN_USER_PASSWORD_RESET_FORM), for agents."""
