"""Private files (pieces of the family file, PAI documents, absence certificates, proofs of
income) deleted by the task worker once the transaction that forgot them has committed, never in
a request: the private storage is an S3-compatible object store in production (docs/deployment.md
§6), and one that is slow or down must not turn an action already saved into an error page."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from documents.models import private_storage

from .mail import RETRY_DELAYS

logger = logging.getLogger(__name__)


def delete_after_commit(files):
    """Have the worker delete private files (FieldFiles or names) once the transaction that
    forgot them has committed: a rollback must not leave rows pointing at deleted files, and the
    request never waits for the storage."""
    names = sorted({getattr(f, "name", f) for f in files if f})
    if not names:
        return

    def enqueue():
        try:
            delete_private_files.enqueue(names)
        except Exception:  # noqa: BLE001 - the action is saved; say which files are left
            logger.exception("Could not queue the deletion of the private files %s: delete them "
                             "by hand.", ", ".join(names))
    transaction.on_commit(enqueue)


@task()
def delete_private_files(names, attempt=0):
    """Delete files of the private storage (every file field whose files come here uses it:
    pieces of the file, PAI, certificates, proof of income). Files the storage could not delete
    are tried again on the e-mails' schedule (mail.RETRY_DELAYS), then logged as an ERROR naming
    them, to be deleted by hand. Returns how many were deleted and how many are left."""
    storage = private_storage()
    left = []
    for name in names:
        try:
            storage.delete(name)
        except Exception as exc:  # noqa: BLE001 - a disk error, or the object store's own errors
            logger.warning("Private file %s not deleted (try %d): %s: %s", name, attempt + 1,
                           type(exc).__name__, exc)
            left.append(name)
    if left:
        backend = delete_private_files.get_backend()
        if attempt < len(RETRY_DELAYS) and backend.supports_defer:
            delete_private_files.using(run_after=timezone.now() + RETRY_DELAYS[attempt]).enqueue(
                left, attempt + 1)
        else:
            logger.error("Private files not deleted after %d tries: %s. Delete them by hand.",
                         attempt + 1, ", ".join(left))
    return {"deleted": len(names) - len(left), "left": len(left)}
