"""WSGI entry point (gunicorn imsclinic.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imsclinic.settings")
application = get_wsgi_application()
