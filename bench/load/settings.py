"""Settings of the load test's server: the production configuration, read from the environment.

Used only by `python -m bench.load`, which starts gunicorn with DEBUG off, a SECRET_KEY,
ALLOWED_HOSTS 127.0.0.1 and the database it built. Three things differ from a clinic's
server, each because the load test runs on one machine:

- static files are collected (the production manifest storage) into LOAD_STATIC_ROOT, a
  temporary folder, so the checkout's var/ is left alone;
- mail stays in memory: there is no mail server, and the tasks that send it are not run;
- every simulated person comes from 127.0.0.1, as every visitor does behind the deployed
  Caddy proxy. The proxy names the visitor's own address in X-Forwarded-For, and allauth's
  per-address rate limits (ACCOUNT_RATE_LIMITS, unchanged) are meant to count each person
  apart; so this server trusts one proxy hop, and each simulated person sends an address
  of their own in that header, as Caddy would for them.
"""

import os
from pathlib import Path

from imsclinic.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["LOAD_STATIC_ROOT"])
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
ALLAUTH_TRUSTED_PROXY_COUNT = 1

if os.environ.get("LOAD_PAGE_CPU"):
    MIDDLEWARE = ["bench.load.page_cpu.PageCpuMiddleware", *MIDDLEWARE]  # noqa: F405
