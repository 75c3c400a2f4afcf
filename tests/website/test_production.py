"""Production settings, run the way a server runs them: in a fresh process, from the environment only."""

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "website.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "ALLOWED_HOSTS": "famille.saint-exemple.fr",
}


def run(args, env, cwd=BASE_DIR):
    # A clean environment: nothing from the developer's shell or from the test settings leaks in.
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return subprocess.run(
        [sys.executable, *args], env={**base, **env}, cwd=cwd,
        capture_output=True, text=True, timeout=120,
    )


def test_deploy_check_reports_no_issue():
    result = run(["manage.py", "check", "--deploy"], PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_refuses_a_boolean_it_would_have_to_guess():
    result = run(["manage.py", "check"], {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "yes"})
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be true/false/1/0" in result.stderr


PROBE = textwrap.dedent("""
    import django
    from django.core.management import call_command

    django.setup()
    from django.templatetags.static import static
    from django.test import Client

    call_command("collectstatic", interactive=False, verbosity=0)
    url = static("css/preau.css")
    client = Client(HTTP_HOST="famille.saint-exemple.fr")
    https = client.get(url, secure=True)
    body = b"".join(https.streaming_content) if https.streaming else https.content
    plain = client.get(url)
    print("URL", url)
    print("HTTPS", https.status_code, len(body), https.get("Content-Type"))
    print("CACHE", https.get("Cache-Control"))
    print("HSTS", https.get("Strict-Transport-Security"))
    print("HTTP", plain.status_code, plain.get("Location"))
""")


def test_whitenoise_serves_hashed_static_files_over_https_with_hsts(tmp_path):
    env = {**PRODUCTION_ENV, "STATIC_ROOT": str(tmp_path / "static"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    # The manifest storage gives the file a content hash, so it can be cached for a year.
    assert lines["URL"].startswith("/static/css/preau.") and lines["URL"] != "/static/css/preau.css"
    status, size, content_type = lines["HTTPS"].split(" ", 2)
    assert status == "200" and content_type.startswith("text/css")
    assert int(size) > 1000
    assert "max-age=315360000" in lines["CACHE"]
    assert lines["HSTS"] == "max-age=31536000; includeSubDomains"
    assert lines["HTTP"] == "301 https://famille.saint-exemple.fr" + lines["URL"]


def test_media_go_to_s3_with_private_files_in_their_own_bucket_and_without_urls():
    env = {**PRODUCTION_ENV, "PREAU_S3_BUCKET": "preau-public", "PREAU_S3_PRIVATE_BUCKET": "preau-private",
           "PREAU_S3_ENDPOINT_URL": "https://s3.example.org", "PREAU_S3_ACCESS_KEY_ID": "id",
           "PREAU_S3_SECRET_ACCESS_KEY": "secret"}
    script = textwrap.dedent("""
        import django; django.setup()
        from django.core.files.storage import storages
        default_storage = storages["default"]
        private = storages["private"]
        print(type(default_storage).__name__, default_storage.bucket_name,
              type(private).__name__, private.bucket_name, private.default_acl)
        print(default_storage.url("images/a.jpg"))
        try:
            private.url("documents/reglement.pdf")
        except ValueError:
            print("private: no url")
    """)
    result = run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "S3Storage preau-public PrivateS3Storage preau-private private"
    assert lines[1] == "https://s3.example.org/preau-public/images/a.jpg"
    assert lines[2] == "private: no url"


def test_s3_needs_its_keys_and_a_private_bucket():
    env = {**PRODUCTION_ENV, "PREAU_S3_BUCKET": "preau-public", "PREAU_S3_ACCESS_KEY_ID": "id",
           "PREAU_S3_SECRET_ACCESS_KEY": "secret"}
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "PREAU_S3_PRIVATE_BUCKET" in result.stderr


@pytest.mark.parametrize("extra, expected", [
    ({"PREAU_WEB_PROCESS": "1"}, "{'options': '-c lock_timeout=5000 -c statement_timeout=20000'} False"),
    ({}, "{} False"),  # commands and the task worker may wait for a lock
    ({"PREAU_WEB_PROCESS": "1", "PREAU_PGBOUNCER": "true"}, "{'prepare_threshold': None} True"),
])
def test_web_processes_get_database_timeouts_and_pgbouncer_turns_off_what_it_cannot_carry(extra, expected):
    script = ("import django; django.setup(); from django.conf import settings; "
              "d = settings.DATABASES['default']; print(d['OPTIONS'], d['DISABLE_SERVER_SIDE_CURSORS'])")
    result = run(["-c", script], {**PRODUCTION_ENV, **extra})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected
