from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def validate_pdf(file):
    """Refuse anything that is not a real PDF: the extension alone is easy to fake."""
    name = (getattr(file, "name", "") or "").lower()
    if not name.endswith(".pdf"):
        raise ValidationError(_("Seuls les fichiers PDF sont acceptés."), code="not_pdf")
    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        head = file.read(5)
    finally:
        file.seek(position)
    if head != b"%PDF-":
        raise ValidationError(
            _("Ce fichier n’est pas un PDF valide. Enregistrez-le au format PDF et réessayez."),
            code="not_pdf",
        )
