import pytest

from portal.models import AppendOnlyError, AuditLog
from portal.services import accounts, dossier
from tests.portal.conftest import pdf_upload


def test_agent_actions_on_a_family_are_logged_with_before_and_after(family_a, parent_a, agent,
                                                                    requirements):
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    dossier.accept_regulation(family_a, by=parent_a)
    dossier.refuse_item(item, "Illisible", by=agent)
    item = dossier.submit_file(family_a, requirements["insurance"], pdf_upload(), by=parent_a)
    dossier.accept_item(item, by=agent)
    dossier.validate_family(family_a, by=agent)
    dossier.suspend_family(family_a, "Départ de la commune", by=agent)
    entries = list(AuditLog.objects.filter(family=family_a, actor=agent).order_by("pk"))
    assert [e.action for e in entries] == ["file.refuse", "file.accept", "family.validate",
                                           "family.suspend"]
    refuse = entries[0]
    assert refuse.before == {"state": "sent"}
    assert refuse.after == {"state": "refused", "reason": "Illisible"}
    assert entries[3].after == {"status": "suspended", "reason": "Départ de la commune"}


def test_creating_a_family_and_editing_it_are_logged(agent, django_capture_on_commit_callbacks):
    family = accounts.create_family(name="Famille Log", by=agent,
                                    guardians=[{"email": "log@example.org"}], city="Avant")
    dossier.update_family(family, {"city": "Après"}, by=agent)
    create, edit = AuditLog.objects.filter(family=family).order_by("pk")
    assert create.action == "family.create"
    assert create.after["guardians"] == ["log@example.org"]
    assert (edit.action, edit.before, edit.after) == ("family.edit", {"city": "Avant"},
                                                      {"city": "Après"})


def test_an_unchanged_edit_writes_nothing(family_a, agent):
    dossier.update_family(family_a, {"city": family_a.city}, by=agent)
    assert not AuditLog.objects.filter(action="family.edit").exists()


def test_health_data_never_reaches_the_log(family_a, parent_a):
    child = family_a.children.get()
    child.allergies = "Arachide, kiwi"
    child.has_pai = True
    dossier.save_child(child, by=parent_a)
    entry = AuditLog.objects.get(action="child.edit")
    assert set(entry.after) == {"allergies", "has_pai"}
    assert "kiwi" not in str(entry.before) + str(entry.after)


def test_a_log_entry_can_be_neither_edited_nor_deleted(agent, family_a):
    entry = AuditLog.objects.create(actor=agent, action="family.validate", family=family_a)
    entry.action = "rien"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).update(action="rien")
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "family.validate"
