"""Every button of the planning grid is named by what it shows first (RGAA 11.9, WCAG 2.5.3
"label in name"): a parent using voice control says the words on the screen, « Cantine
Disponible », and the button answers; a screen reader then hears the day and the child."""

import datetime
import html
import re
from types import SimpleNamespace

import pytest

from portal.views.planning_grid import cell_html, grid_texts

DAY = datetime.date(2026, 9, 14)
BUTTON = re.compile(r'<button[^>]*aria-label="([^"]*)"[^>]*>(.*?)</button>', re.S)


def visible_words(fragment):
    text = re.sub(r"<svg.*?</svg>", " ", fragment, flags=re.S)  # icons are aria-hidden
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


@pytest.mark.parametrize("state", ["available", "final", "confirm", "booked", "full", "waiting"])
def test_each_buttons_name_starts_with_the_words_it_shows(state):
    cell = SimpleNamespace(day=DAY, state=state, reason="", booking=SimpleNamespace(pk=7),
                           waiting=SimpleNamespace(pk=9, position=2))
    out = cell_html(cell, grid_texts(), 1, "Léa", 3, "Cantine & goûter", "lundi 14 septembre")

    ((name, content),) = BUTTON.findall(out)
    name, shown = html.unescape(name), visible_words(content)
    assert shown and name.startswith(shown + " — "), (shown, name)
    # The rest says which day, for whom.
    assert "lundi 14 septembre" in name and "Léa" in name
