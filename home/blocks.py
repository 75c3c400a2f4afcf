from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageBlock


class CalloutBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("titre"))
    text = blocks.RichTextBlock(label=_("texte"), features=["bold", "italic", "link"])

    class Meta:
        icon = "warning"
        label = _("Encadré")
        template = "home/blocks/callout.html"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(label=_("Intertitre"), icon="title",
                               template="home/blocks/heading.html")
    paragraph = blocks.RichTextBlock(
        label=_("Paragraphe"),
        features=["h3", "bold", "italic", "ol", "ul", "link", "document-link"],
    )
    image = ImageBlock(label=_("Image"))
    callout = CalloutBlock()
    document = DocumentChooserBlock(label=_("Document"), template="home/blocks/document.html")
    embed = EmbedBlock(label=_("Vidéo externe"))
