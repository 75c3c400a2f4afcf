import re
import unicodedata
from pathlib import Path

from django.contrib.auth.password_validation import CommonPasswordValidator
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


# Rows of French (AZERTY) and English keyboards, the alphabet and the digits: a password that is
# a run along one of them, forwards or backwards, is guessed first.
SEQUENCES = ("azertyuiopqsdfghjklmwxcvbn", "qwertyuiopasdfghjklzxcvbnm",
             "abcdefghijklmnopqrstuvwxyz", "01234567890")
FRENCH_LIST = Path(__file__).resolve().parent / "data" / "common-passwords-fr.txt"


def _plain(text):
    """Lower case without accents: « Été » and « ete » are the same guess."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class PredictablePasswordValidator:
    """Refuse what length alone lets through: only digits, one character or a short group
    repeated (« aaaaaaaaaaaa », « abcabcabcabc »), a run along the keyboard or the alphabet."""

    def validate(self, password, user=None):
        plain = _plain(password)
        if plain.isdigit():
            raise ValidationError(_("Le mot de passe ne peut pas être fait que de chiffres."),
                                  code="password_entirely_numeric")
        if re.fullmatch(r"(.{1,4})\1+", plain, re.DOTALL):
            raise ValidationError(_("Le mot de passe ne peut pas répéter un même caractère ou "
                                    "un même petit groupe de caractères."),
                                  code="password_repeated")
        if any(plain in seq or plain in seq[::-1] for seq in SEQUENCES):
            raise ValidationError(_("Le mot de passe ne peut pas suivre une rangée du clavier "
                                    "ou l’alphabet."), code="password_sequence")

    def get_help_text(self):
        return _("Pas seulement des chiffres, ni une suite de touches du clavier, ni un même "
                 "caractère répété.")


class FrenchCommonPasswordValidator:
    """Refuse a common French password or word (portal/data/common-passwords-fr.txt) or one of
    Django's common passwords, even with digits or symbols added before or after it
    (« motdepasse12 », « Soleil2024! »)."""

    def __init__(self, password_list_path=FRENCH_LIST):
        lines = Path(password_list_path).read_text(encoding="utf-8").splitlines()
        self.words = {_plain(w.strip()) for w in lines if w.strip() and not w.startswith("#")}
        self.words |= CommonPasswordValidator().passwords

    def validate(self, password, user=None):
        plain = _plain(password)
        core = plain.strip("0123456789 !?.,;:_-*#@$%&+=/'\"()[]{}")
        if plain in self.words or (len(core) >= 4 and core in self.words):
            raise ValidationError(_("Ce mot de passe est trop courant : il fait partie des "
                                    "premiers essayés. Choisissez-en un autre, par exemple "
                                    "quelques mots sans rapport entre eux."),
                                  code="password_too_common")

    def get_help_text(self):
        return _("Pas un mot de passe courant, même suivi de chiffres.")
