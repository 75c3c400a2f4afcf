from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.images.blocks import ImageChooserBlock

SCREENSHOT_SPEC = "max-800x800"


class ScreenshotChooserBlock(ImageChooserBlock):
    """Loads every screenshot of the page and its renditions in two queries, however many steps."""

    def bulk_to_python(self, values):
        values = list(values)
        objects = self.model_class.objects.prefetch_renditions(SCREENSHOT_SPEC).in_bulk(
            [value for value in values if value is not None]
        )
        return [objects.get(value) for value in values]


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("titre de l’étape"), max_length=120)
    text = blocks.RichTextBlock(label=_("explications"),
                                features=["bold", "italic", "ol", "ul", "link"])
    screenshot = ScreenshotChooserBlock(label=_("capture d’écran"), required=False)
    screenshot_alt = blocks.CharBlock(
        label=_("texte alternatif de la capture"), required=False, max_length=250,
        help_text=_("Décrivez ce que montre la capture, pour les personnes qui ne la voient pas."),
    )

    class Meta:
        icon = "list-ol"
        label = _("Étape")
        template = "tutorials/blocks/step.html"

    def clean(self, value):
        value = super().clean(value)
        if value.get("screenshot") and not value.get("screenshot_alt", "").strip():
            raise StructBlockValidationError(block_errors={"screenshot_alt": ValidationError(
                _("Une capture d’écran a besoin d’un texte alternatif."))})
        return value


class StepsBlock(blocks.StreamBlock):
    step = StepBlock()
