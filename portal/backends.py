"""Authentication backend of the site: Django's ModelBackend with a cheaper per-request user load."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from portal import rawsql


class UserBackend(ModelBackend):
    """Every logged-in request loads its user; ModelBackend compiles an ORM query for it each
    time (~0.5 ms, more than the query). This runs the same SELECT written out once (rawsql)."""

    def get_user(self, user_id):
        if not (isinstance(user_id, int) and 0 < user_id < 2**63):  # SQLite overflows past 64 bits
            return None
        user = rawsql.user_by_id(get_user_model(), user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
