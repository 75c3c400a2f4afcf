"""Pillow drawings of portal screens, for the demo screenshots and the demo video frames."""

import io

from PIL import Image, ImageDraw, ImageFont

BLUE = (29, 79, 145)
BLUE_LIGHT = (232, 239, 249)
TEXT = (28, 30, 33)
GREY = (85, 89, 95)
FOCUS = (255, 191, 71)


def _font(size):
    # DejaVu has the French accents; Pillow's bundled font (no accents) keeps it working without.
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def draw_screen(title, lines, button="", *, size=(640, 400), caption=""):
    """A simplified portal screen: header, page title, a few fields, a highlighted button."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 48), fill=BLUE)
    draw.text((16, 14), "Préau — Ville de Saint-Exemple", fill="white", font=_font(20))
    draw.text((24, 68), title, fill=BLUE, font=_font(28))
    y = 116
    for line in lines:
        draw.rounded_rectangle((24, y, width - 24, y + 40), radius=8, outline=GREY, width=2)
        draw.text((36, y + 10), line, fill=TEXT, font=_font(18))
        y += 52
    if button:
        draw.rounded_rectangle((20, y + 4, 300, y + 56), radius=10, outline=FOCUS, width=4)
        draw.rounded_rectangle((24, y + 8, 296, y + 52), radius=8, fill=BLUE)
        draw.text((40, y + 18), button, fill="white", font=_font(20))
    if caption:
        draw.rectangle((0, height - 44, width, height), fill=BLUE_LIGHT)
        draw.text((16, height - 34), caption, fill=TEXT, font=_font(18))
    return image


def png_bytes(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
