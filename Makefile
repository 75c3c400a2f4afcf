# Préau — the two commands: `make run` (demo site) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: run test venv dev-deps chromium java gettext messages makemessages lint clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt

dev-deps: $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt

# Installs GNU gettext when possible; without it the committed .mo files are used.
gettext:
	@bash scripts/install-gettext.sh

messages: gettext
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv -v0; \
	else echo "msgfmt missing: keeping the committed .mo files."; fi

# Collects new French msgids into locale/en/LC_MESSAGES/django.po (translate them, then `make messages`).
makemessages: gettext
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=tests --ignore=staticfiles --ignore=bench

run: venv messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# Installs Debian's Chromium for the browser tests when possible; they skip otherwise.
chromium:
	@bash scripts/install-chromium.sh

# Installs Debian's Java runtime for the W3C HTML checker (`pytest -m html`); it skips otherwise.
java:
	@bash scripts/install-java.sh

test: dev-deps messages chromium java
	DJANGO_SETTINGS_MODULE=website.settings.test $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=website.settings.test $(PY) manage.py makemigrations --check --dry-run -v1
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 media private-media staticfiles
