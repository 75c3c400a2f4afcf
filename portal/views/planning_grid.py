"""The month grid as plain Python string building.

A family month is up to ~400 cells; Django templates cost ~0.09 ms per cell here, so the grid
is built from precomputed strings (see ARCHITECTURE.md, "Scale"). Every dynamic text is
escaped; the page around it stays a normal template.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.services.planning_states import STATE_LABELS

# Inline SVG from the page's sprite (portal/icons.html), not emoji: phones without an emoji font
# showed empty boxes. Decorative: the state is always said in text beside it.
ICON_NAMES = {
    "not_offered": "none", "holiday": "sun", "closed": "cross", "deadline": "clock",
    "not_validated": "alert", "not_renewed": "alert", "child_review": "alert", "full": "full",
    "no_ticket": "empty",
    "available": "free", "final": "free", "confirm": "alert",
    "booked": "check", "locked": "lock", "waiting": "hourglass", "other_household": "home",
}
# A day whose services are all in one of these states has nothing to book or cancel.
IDLE_STATES = frozenset({"deadline", "holiday", "closed", "not_validated", "not_renewed",
                         "child_review"})
ICONS = {state: f'<svg class="i" aria-hidden="true" focusable="false"><use href="#i-{name}"></use></svg>'
         for state, name in ICON_NAMES.items()}


def weekday_names():
    return [_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"), _("dimanche")]


def month_names():
    return [_("janvier"), _("février"), _("mars"), _("avril"), _("mai"), _("juin"), _("juillet"),
            _("août"), _("septembre"), _("octobre"), _("novembre"), _("décembre")]


# The grid's fixed texts, translated once per language and process (~40 gettext calls a page).
_texts = {}


def grid_texts():
    language = get_language()
    texts = _texts.get(language)
    if texts is None:
        texts = _texts[language] = {
            "weekdays": weekday_names(), "months": month_names(),
            "labels": {state: escape(str(label)) for state, label in STATE_LABELS.items()},
            "raw_labels": {state: str(label) for state, label in STATE_LABELS.items()},
            "book": _("Réserver %(service)s le %(day)s pour %(child)s"),
            "cancel": _("Annuler %(service)s le %(day)s pour %(child)s"),
            "book_final": _("Réserver %(service)s le %(day)s pour %(child)s (non annulable une fois "
                            "réservé)"),
            "confirm": _("Confirmer : réserver %(service)s le %(day)s pour %(child)s, sans annulation "
                         "possible"),
            "confirm_text": escape(_("Non annulable une fois réservé.")),
            "raw_confirm_button": _("Confirmer la réservation"),
            "confirm_button": escape(_("Confirmer la réservation")),
            "waitlist": _("Complet : inscrire %(child)s sur la liste d’attente de %(service)s le %(day)s"),
            "leave": _("Quitter la liste d’attente de %(service)s le %(day)s pour %(child)s "
                       "(n° %(position)d)"),
            "raw_waitlist_hint": _("liste d’attente"),
            "waitlist_hint": escape(_("liste d’attente")),
            "position": _("n° %(position)d"),
            "raw_leave_hint": _("quitter la liste"),
            "leave_hint": escape(_("quitter la liste")),
            "day": escape(_("Jour")), "raw_cancel_hint": _("annuler"), "cancel_hint": escape(_("annuler")),
            "no_service": escape(_("Aucune prestation n’est proposée à cette école.")),
        }
    return texts


def day_label(day, weekdays, months):
    return f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]}"


def render_planning(planning):
    """HTML of every child's month table. Buttons submit the one form around the grid."""
    texts = grid_texts()
    weekdays, months = texts["weekdays"], texts["months"]
    out = []
    for row in planning.rows:
        child = row.child
        child_pk = child.pk
        name = child.first_name
        out.append(f'<section class="planning-child" aria-labelledby="child-{child.pk}">'
                   f'<h2 id="child-{child.pk}">{escape(str(child))} '
                   f'<small class="muted">{escape(child.school.name)}</small></h2>')
        if not row.services:
            out.append(f'<p>{texts["no_service"]}</p></section>')
            continue
        out.append('<div class="table-scroll"><table class="planning"><thead><tr>'
                   f'<th scope="col">{texts["day"]}</th>')
        for service in row.services:
            out.append(f'<th scope="col">{escape(service.name)}</th>')
        out.append("</tr></thead><tbody>")
        service_names = [s.name for s in row.services]
        service_pks = [s.pk for s in row.services]
        row_cells = row.cells
        for day in planning.days:
            cells = [row_cells[(pk, day)] for pk in service_pks]
            if all(c.state == "not_offered" for c in cells):
                continue
            label = day_label(day, weekdays, months)
            states = {c.state for c in cells if c.state != "not_offered"}
            if len(states) == 1 and (state := states.pop()) in IDLE_STATES:
                # Nothing to do that day: on phones the row folds into one line that says why.
                reason = next((c.reason for c in cells if c.reason), "")
                summary = texts["labels"][state] + (f" : {escape(reason)}" if reason else "")
                out.append(f'<tr class="day-idle"><th scope="row">{escape(label)}'
                           f'<span class="day-summary"> — {summary}</span></th>')
            else:
                out.append(f'<tr><th scope="row">{escape(label)}</th>')
            for cell, service_name, service_pk in zip(cells, service_names, service_pks, strict=True):
                out.append(cell_html(cell, texts, child_pk, name, service_pk, service_name, label))
            out.append("</tr>")
        out.append("</tbody></table></div></section>")
    return mark_safe("".join(out))  # noqa: S308 - every dynamic part above is escaped


def cell_id(child_id, service_id, day):
    """The id of a day's button (or of its cell when it has none): the grid's anchor and focus."""
    return f"c-{child_id}-{service_id}-{day:%Y%m%d}"


def _name(visible, action):
    """A button's accessible name: the words it shows first, in their order, then what pressing
    it does (RGAA 11.9, WCAG 2.5.3 "label in name": someone using voice control says what they
    see; a screen reader hears the day and the child)."""
    return escape(f"{' '.join(visible)} — {action}")


def cell_html(cell, texts, child_pk, child_name, service_pk, service_name, label, oob=False):
    """One day's <td>. Names come unescaped (escaped once here); plain ids are passed because
    .pk is a property call and this runs for every cell. A cell with a button has the id t-…,
    its button c-…: after an in-place update the button keeps its id, so the browser keeps the
    focus on it."""
    day = cell.day
    cid = cell_id(child_pk, service_pk, day)
    state = cell.state
    icon, text = ICONS[state], texts["labels"][state]
    swap = ' data-hx-swap-oob="outerHTML"' if oob else ""
    # The service's name, shown in the cell on phones where the column headers are hidden.
    service = f'<span class="cell-service">{escape(service_name)}</span>'
    what = {"service": service_name, "day": label, "child": child_name}
    shown = texts["raw_labels"][state]
    if state == "available":
        aria = _name((service_name, shown), texts["book"] % what)
        return (f'<td class="st-{state}" id="t-{cid}"{swap}><button type="submit" name="book" '
                f'value="{child_pk}:{service_pk}:{day.isoformat()}" id="{cid}" class="cell-button" '
                f'aria-label="{aria}">{service}{icon} {text}</button></td>')
    if state == "final":
        aria = _name((service_name, shown), texts["book_final"] % what)
        return (f'<td class="st-{state}" id="t-{cid}"{swap}><button type="submit" name="book_final" '
                f'value="{child_pk}:{service_pk}:{day.isoformat()}" id="{cid}" class="cell-button" '
                f'aria-label="{aria}">{service}{icon} {text}</button></td>')
    if state == "confirm":
        aria = _name((texts["raw_confirm_button"],), texts["confirm"] % what)
        return (f'<td class="st-{state}" id="t-{cid}"{swap}>{service}<span class="cell-reason">'
                f'{texts["confirm_text"]}</span><button type="submit" name="book_confirmed" '
                f'value="{child_pk}:{service_pk}:{day.isoformat()}" id="{cid}" class="cell-button" '
                f'aria-label="{aria}">{ICONS["booked"]} {texts["confirm_button"]}</button></td>')
    if state == "booked":
        aria = _name((service_name, shown, texts["raw_cancel_hint"]), texts["cancel"] % what)
        return (f'<td class="st-{state}" id="t-{cid}"{swap}><button type="submit" name="cancel" '
                f'value="{cell.booking.pk}" id="{cid}" class="cell-button" aria-label="{aria}">'
                f'{service}{icon} {text}<span class="cell-hint">'
                f'{texts["cancel_hint"]}</span></button></td>')
    if state == "full":
        aria = _name((service_name, shown, texts["raw_waitlist_hint"]), texts["waitlist"] % what)
        return (f'<td class="st-{state}" id="t-{cid}"{swap}><button type="submit" name="waitlist" '
                f'value="{child_pk}:{service_pk}:{day.isoformat()}" id="{cid}" class="cell-button" '
                f'aria-label="{aria}">{service}{icon} {text}<span class="cell-hint">'
                f'{texts["waitlist_hint"]}</span></button></td>')
    if state == "waiting":
        position = cell.waiting.position
        aria = _name((service_name, shown, texts["position"] % {"position": position},
                      texts["raw_leave_hint"]), texts["leave"] % {**what, "position": position})
        return (f'<td class="st-{state}" id="t-{cid}"{swap}><button type="submit" name="leave_waitlist" '
                f'value="{cell.waiting.pk}" id="{cid}" class="cell-button" aria-label="{aria}">'
                f'{service}{icon} {text}<span class="cell-reason">'
                f'{escape(texts["position"] % {"position": position})}</span><span class="cell-hint">'
                f'{texts["leave_hint"]}</span></button></td>')
    reason = f'<span class="cell-reason">{escape(cell.reason)}</span>' if cell.reason else ""
    return f'<td class="st-{state}" id="{cid}"{swap}>{service}{icon} {text}{reason}</td>'


def render_cell(cell):
    """One cell alone, marked for an out-of-band swap (htmx) in the page that shows it."""
    texts = grid_texts()
    label = day_label(cell.day, texts["weekdays"], texts["months"])
    return mark_safe(cell_html(cell, texts, cell.child.pk, cell.child.first_name,  # noqa: S308
                               cell.service.pk, cell.service.name, label, oob=True))
