"""From an agent creating a family to the parent seeing bookings open, in a real browser."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in_to_admin

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PARENT_PASSWORD = "le préau est ouvert à huit heures"


def upload(page, requirement_name):
    page.goto("/famille/dossier/")
    page.get_by_role("link", name=re.compile(f"Envoyer le document : {requirement_name}")).click()
    page.set_input_files("input[name=file]", files=[
        {"name": "document.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_text(f"« {requirement_name} » est envoyé")).to_be_visible()


def test_agent_creates_a_family_the_parent_fills_the_file_and_bookings_open(
        demo, desktop_page, page, mailoutbox, assert_accessible):
    agent, parent = desktop_page, page

    # The agent creates the family in the admin: the guardian gets an invitation e-mail.
    log_in_to_admin(agent, "agent.demo@example.org")
    agent.goto("/admin/familles/new/")
    agent.fill("input[name=name]", "Famille Durand")
    agent.fill("input[name=guardian1_email]", "paul.durand@example.org")
    agent.fill("input[name=guardian1_first_name]", "Paul")
    agent.fill("input[name=guardian1_last_name]", "Durand")
    agent.get_by_role("button", name=re.compile("Enregistrer|Create|Créer|Save")).first.click()
    expect(agent.get_by_role("heading", name=re.compile("Dossier de Famille Durand"))).to_be_visible()
    review_url = agent.url
    assert [m.to for m in mailoutbox] == [["paul.durand@example.org"]]
    invitation = re.search(r"https?://\S+(/famille/invitation/\S+/)", mailoutbox[0].body).group(1)

    # The parent follows the link and chooses a password.
    parent.goto(invitation)
    parent.fill("input[name=new_password1]", PARENT_PASSWORD)
    parent.fill("input[name=new_password2]", PARENT_PASSWORD)
    parent.get_by_role("button", name="Enregistrer mon mot de passe").click()
    banner = parent.locator("#etat-reservations")
    expect(banner).to_contain_text("ne sont pas encore ouvertes")
    expect(banner).to_contain_text("Ajoutez vos enfants.")
    assert_accessible(parent)

    # … adds a child …
    parent.goto("/famille/enfants/ajouter/")
    parent.fill("input[name=first_name]", "Lina")
    parent.fill("input[name=last_name]", "Durand")
    parent.fill("input[name=birth_date]", "2019-06-15")
    parent.select_option("select[name=school]", label="École Jules-Ferry")
    parent.fill("input[name=school_class]", "CP")
    parent.get_by_role("button", name="Enregistrer la fiche").click()
    expect(parent.get_by_text("La fiche de Lina est enregistrée.")).to_be_visible()

    # … sends the documents and accepts the regulation.
    upload(parent, "Attestation d’assurance scolaire")
    upload(parent, "Fiche sanitaire de liaison")
    parent.get_by_role("link", name="Lire et accepter le règlement").click()
    parent.get_by_label("J’ai lu le règlement et je l’accepte.").check()
    parent.get_by_role("button", name="Accepter le règlement").click()
    expect(parent.get_by_text("votre acceptation du règlement est enregistrée")).to_be_visible()
    expect(parent.get_by_role("link", name="Télécharger le récépissé (PDF)")).to_be_visible()
    assert_accessible(parent)
    parent.goto("/famille/")
    expect(banner).to_contain_text("La mairie doit encore vérifier et valider votre dossier.")

    # The agent accepts each piece, then validates the file.
    agent.goto(review_url)
    for name in ("Attestation d’assurance scolaire", "Fiche sanitaire de liaison"):
        agent.get_by_role("button", name=f"Accepter {name}").click()
        expect(agent.get_by_text(f"« {name} » accepté.")).to_be_visible()
    agent.get_by_role("button", name="Valider le dossier").click()
    expect(agent.get_by_text("Dossier validé : la famille peut réserver et en est prévenue")).to_be_visible()
    assert "réservations sont ouvertes" in mailoutbox[-1].subject

    # The parent now sees bookings open.
    parent.goto("/famille/")
    expect(banner).to_contain_text("Votre dossier est validé : les réservations sont ouvertes.")
