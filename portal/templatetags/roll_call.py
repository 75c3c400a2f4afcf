"""The roll-call's rows built as strings, like the planning grid: a school's roll-call is 600
children and more, and Django template tags cost ~0.15 ms a row with its two buttons (630
rows: 100 ms of a 100 ms aim, bench/README.md). The page around them stays a template. Every
dynamic text goes through escape()."""

from django import template
from django.middleware.csrf import get_token
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag(takes_context=True)
def roll_call_rows(context, rows, mark_url, excuse_url):
    day_list = context["list"]
    may_mark, may_excuse = context["may_mark"], context["may_excuse"]
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(context["request"]))}">'
    pai = f'<span class="badge badge-pai">⚠ {escape(_("PAI"))}</span>'
    unbooked = f'<span class="badge badge-private">{escape(_("sans réservation"))}</span>'
    reported = f'<span class="badge badge-private">{escape(_("absence signalée"))}</span>'
    states = {None: f'<span class="rc-state" data-state="none">{escape(_("… non pointé"))}</span>',
              True: f'<span class="rc-state" data-state="present">✓ {escape(_("présent"))}</span>',
              False: f'<span class="rc-state" data-state="absent">✗ {escape(_("absent"))}</span>'}
    excused = f'<span class="badge badge-ok">{escape(_("absence excusée, ticket rendu"))}</span>'
    parents = escape(_("Parents seulement"))
    present_label, absent_label = escape(_("Présent")), escape(_("Absent"))
    excuse_label, reason_label = escape(_("Excuser l’absence")), escape(_("Motif (visible par la famille)"))
    certificate, excuse_button = escape(_("Certificat médical")), escape(_("Excuser et rendre le ticket"))
    mark_url, excuse_url = escape(mark_url), escape(excuse_url)
    out = []
    for row in rows:
        child, mark, ref = row.child, row.mark, row.ref
        first, last = escape(child.first_name), escape(child.last_name)
        hidden_name = f'<span class="visually-hidden"> : {first} {last}</span>'
        html = [f'<li class="rc-row" id="enfant-{ref}"><div class="rc-who"><strong>{last} {first}</strong>']
        if child.has_pai:
            html.append(pai)
        if row.unbooked:
            html.append(unbooked)
        if row.reported:
            html.append(reported)
        html.append(states[None if mark is None else mark.present])
        if mark is not None:
            if mark.excused_at:
                html.append(excused)
            if mark.penalty:
                penalty = ngettext("pénalité : %(n)s ticket", "pénalité : %(n)s tickets",
                                   mark.penalty) % {"n": mark.penalty}
                html.append(f'<span class="badge badge-private">{escape(penalty)}</span>')
            at = dateformat.time_format(timezone.localtime(mark.changed_at), "H:i")
            html.append('<small class="muted">' + escape(
                _("par %(by)s à %(at)s") % {"by": mark.changed_by, "at": at}) + "</small>")
        if day_list.with_health and child.allergies:
            html.append(f"<small>{escape(child.allergies)}</small>")
        if day_list.with_pickup:
            people = " · ".join(f'{escape(p.name)} <a href="tel:{escape(p.phone)}">{escape(p.phone)}</a>'
                                for p in row.pickup)
            html.append(f"<small>{people or parents}</small>")
        html.append("</div>")
        if may_mark:
            present = "true" if mark is not None and mark.present else "false"
            absent = "true" if mark is not None and not mark.present else "false"
            html.append(
                f'<form method="post" action="{mark_url}" class="rc-buttons">{csrf}'
                f'<input type="hidden" name="enfant" value="{ref}">'
                f'<button type="submit" name="statut" value="present" class="button rc-present" '
                f'aria-pressed="{present}">{present_label}{hidden_name}</button>'
                f'<button type="submit" name="statut" value="absent" class="button rc-absent" '
                f'aria-pressed="{absent}">{absent_label}{hidden_name}</button></form>')
        if (may_excuse and not row.unbooked and not (mark is not None and mark.excused_at)
                and not (mark is not None and mark.present)):
            html.append(
                f'<details class="rc-excuse"><summary>{excuse_label}{hidden_name}</summary>'
                f'<form method="post" action="{excuse_url}" class="inline-form">{csrf}'
                f'<input type="hidden" name="enfant" value="{ref}">'
                f'<label for="motif-{ref}">{reason_label}</label>'
                f'<input id="motif-{ref}" name="motif" required maxlength="200" value="{certificate}">'
                f'<button type="submit" class="button button-small">{excuse_button}</button>'
                "</form></details>")
        html.append("</li>\n")
        out.append(" ".join(html))
    return mark_safe("".join(out))
