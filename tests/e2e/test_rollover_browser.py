"""The agent's school-year rollover in a real browser: the assistant proposes the next year,
the preview lists the class moves (Jade, in CM2, leaves) and the services to carry on (the
morning care, unticked, is left to end), and applying it does what was shown."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import AuditLog, Child, FileItem, SchoolYear, Service
from tests.e2e.conftest import log_in_to_admin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_agent_previews_then_applies_the_rollover(demo, desktop_page):
    page = desktop_page
    latest = SchoolYear.objects.order_by("-start").first()
    next_name = f"{latest.end.year}-{latest.end.year + 1}"
    log_in_to_admin(page, "agent.demo@example.org")
    page.goto("/admin/annees-scolaires/")
    page.get_by_role("link", name="Passer à l’année suivante").click()
    expect(page.locator("input[name=name]")).to_have_value(next_name)

    page.get_by_role("button", name="Voir l’aperçu").click()
    preview = page.locator("#rollover-preview")
    expect(preview).to_contain_text(f"de {latest.name} à {next_name}")
    expect(preview).to_contain_text("Quitte l’école")
    jade_row = preview.locator("tr", has_text="Quitte l’école").filter(has_text="CM2").first
    jade_row.get_by_text(re.compile(r"\d+ enfants?")).click()  # the names are folded
    expect(jade_row).to_contain_text("Jade Martin")
    assert not SchoolYear.objects.filter(name=next_name).exists()  # a preview writes nothing

    # Every demo service ends with the year: ticked. The town stops the morning care.
    morning = Service.objects.get(name="Garderie du matin")
    expect(preview.get_by_role("group", name=re.compile("Prestations qui finissent avec l’année"))
           .get_by_role("checkbox")).to_have_count(Service.objects.count())
    expect(page.get_by_label("Cantine (finit le")).to_be_checked()
    page.get_by_label("Garderie du matin (finit le").uncheck()
    page.get_by_role("button", name="Mettre l’aperçu à jour").click()
    expect(page.get_by_label("Garderie du matin (finit le")).not_to_be_checked()
    expect(preview).to_contain_text("1 prestation laissée finir à sa date")

    page.get_by_role("button", name=f"Appliquer le passage à {next_name}").click()
    expect(page.get_by_text(f"Année {next_name} prête")).to_be_visible()
    year = SchoolYear.objects.get(name=next_name)
    jade = Child.objects.get(first_name="Jade", last_name="Martin")
    assert jade.leaves_on == year.start and jade.class_year == year
    assert FileItem.objects.filter(requirement__school_year=year, state=FileItem.State.RENEW).exists()
    assert AuditLog.objects.filter(action="year.rollover", target=next_name).count() == 1
    assert Service.objects.get(pk=morning.pk).end == morning.end
    assert Service.objects.get(name="Cantine").end == year.end

    # The assistant now proposes the year after; asked again for this one, its preview says
    # everything is done and offers nothing to apply.
    expect(page.locator("input[name=name]")).to_have_value(f"{year.end.year}-{year.end.year + 1}")
    page.fill("input[name=name]", next_name)
    page.get_by_role("button", name="Voir l’aperçu").click()
    expect(page.get_by_text("Tout est déjà fait")).to_be_visible()
    expect(page.locator("#rollover-apply")).to_have_count(0)
