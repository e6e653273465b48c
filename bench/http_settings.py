"""Settings for the booking HTTP bench's server: the real app plus one bare view.

Used only by bench/booking_http.py, which starts gunicorn with DEBUG off, a SECRET_KEY and
ALLOWED_HOSTS 127.0.0.1. Everything else is the production configuration (imsclinic.settings)
except that mail stays in memory and static files need no manifest (the API serves none).
"""

from imsclinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http_urls"
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
