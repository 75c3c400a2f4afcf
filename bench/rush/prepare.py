"""The rush's town: the demo, plus N validated families with one child each at École
Jules-Ferry (its 4 services), 200 tickets per ticket type, and a password for each guardian
(`rush<i>@example.org`, password PASSWORD). Run inside a configured Django (bench.settings)."""

import datetime
import json
import os

PASSWORD = "rush-password-2026"


def prepare(count, out_path):
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import transaction

    from portal.models import (
        Child,
        Family,
        FileItem,
        FileRequirement,
        RegulationAcceptance,
        School,
        Service,
        TariffBracket,
        User,
    )
    from portal.services import dossier
    from portal.services.wallet import credit_tickets, get_wallet

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))
    school = School.objects.get(name="École Jules-Ferry")
    ticket_types = {s.ticket_type for s in Service.objects.filter(schools=school)}
    requirements = list(FileRequirement.objects.filter(kind=FileRequirement.Kind.UPLOAD))
    regulation = dossier.current_regulation()
    bracket = TariffBracket.objects.order_by("pk").first()  # prices exist for it: families can buy
    hashed = make_password(PASSWORD)  # one hash for all: creating 2,500 would take ~15 min of CPU
    users = []
    with transaction.atomic():
        for i in range(count):
            user = User.objects.create(email=f"rush{i}@example.org", password=hashed, first_name=f"Parent{i}")
            family = Family.objects.create(name=f"Famille Rush {i}", status=Family.Status.VALIDATED,
                                           tariff_bracket=bracket)
            family.guardians.add(user)
            Child.objects.create(family=family, first_name="Enfant", last_name=f"Rush{i}", school=school,
                                 birth_date=datetime.date(2018, 1, 1))
            FileItem.objects.bulk_create([
                FileItem(family=family, requirement=r, state=FileItem.State.ACCEPTED) for r in requirements])
            if regulation is not None:
                RegulationAcceptance.objects.create(family=family, document=regulation, accepted_by=user,
                                                    document_title=regulation.title,
                                                    version=regulation.version)
            for ticket_type in ticket_types:
                credit_tickets(get_wallet(family, ticket_type), 200, "Bench", by=None)
            users.append(user)
    assert dossier.bookings_open(family), dossier.missing_for_bookings(family)
    sessions = []
    for user in users:  # for the "already logged in" runs: a session each, no password check
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "portal.backends.UserBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    data = {"users": [{"email": u.email, "session": s} for u, s in zip(users, sessions, strict=True)],
            "password": PASSWORD}
    with open(out_path, "w") as f:
        json.dump(data, f)
    return data
