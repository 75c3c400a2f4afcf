import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "website.settings.dev")
# Only processes serving requests get the database lock and statement timeouts (settings/production.py).
os.environ.setdefault("PREAU_WEB_PROCESS", "1")
application = get_wsgi_application()
