"""Media on S3-compatible object storage (django-storages), switched on by PREAU_S3_BUCKET
(settings/production.py, docs/deployment.md §6).

Private files (the regulation, families' uploads, PAI documents, certificates, tutorial videos)
go to a bucket of their own, stored without a public ACL, and this storage gives them no URL at
all: like PRIVATE_MEDIA_ROOT on disk, they are only ever read by Django and served after its
access check (Wagtail's document serve view streams them, WAGTAILDOCS_SERVE_METHOD =
"serve_view"). A template or view that asked for such a URL fails loudly instead of handing
out a link that bypasses the check.
"""

from storages.backends.s3 import S3Storage


class PrivateS3Storage(S3Storage):
    default_acl = "private"
    querystring_auth = True

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise ValueError("Private files have no URL: Django serves them after an access check.")
