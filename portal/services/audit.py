"""The append-only journal of actions on families. Health data never goes into it."""

from django.db.models.fields.files import FieldFile

from portal.models import AuditLog, Child

# Only the fact that health fields changed is logged, never their values.
REDACTED = "‹donnée de santé›"


def snapshot(instance, fields):
    data = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, FieldFile):
            value = value.name or ""
        elif hasattr(value, "pk"):
            value = str(value)
        data[name] = value
    return data


def changed(before, after):
    """Keep only the keys whose value changed, so entries stay short and readable."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _redact(data):
    return {k: (REDACTED if k in Child.HEALTH_FIELDS else v) for k, v in (data or {}).items()}


def record_action(actor, action, family=None, *, target="", before=None, after=None):
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action, family=family, target=str(target)[:255],
        before=_redact(before), after=_redact(after),
    )
