from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """Long passphrases are welcome, but not unbounded input to the hasher."""

    def __init__(self, max_length=128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext("Le mot de passe ne doit pas dépasser %(max)d caractère.",
                         "Le mot de passe ne doit pas dépasser %(max)d caractères.",
                         self.max_length),
                code="password_too_long", params={"max": self.max_length},
            )

    def get_help_text(self):
        return _("Au plus %(max)d caractères.") % {"max": self.max_length}


def axes_username(request, credentials):
    """Count failures per normalised e-mail so « A@x.org » and « a@x.org » share one counter."""
    source = credentials if credentials else request.POST
    value = (source or {}).get("username") or (source or {}).get("email") or ""
    return value.strip().lower()
