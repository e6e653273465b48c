"""Gunicorn settings for imsclinic behind Caddy on one machine (see docs/DEPLOY.md).

Started by deploy/imsclinic-web.service as
    gunicorn --config deploy/gunicorn.conf.py imsclinic.wsgi
from the app's folder. Options given on the command line win over this file.
"""

from __future__ import annotations

import gc
import os
import re
from typing import Any

from gunicorn.glogging import Logger

# Only Caddy on this machine talks to gunicorn; it answers the world over HTTPS.
bind = "127.0.0.1:8000"

# Worker processes from the machine's cores (WEB_CONCURRENCY overrides), two threads each.
# Each thread may hold one PostgreSQL connection while it answers: on 2 cores that is
# 5 x 2 = 10 connections at most, well inside PostgreSQL's default 100.
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or 2 * (_cores or 1) + 1
worker_class = "gthread"
threads = 2

# Load Django once, before forking: workers start in milliseconds and share memory. A
# release restarts the service, so new code is always loaded by a new master.
preload_app = True


def when_ready(server: Any) -> None:
    """Compile the templates once in the master, so no worker compiles them on its requests.

    Called after the app is loaded and before the first worker starts; the workers that
    replace others after `max_requests` inherit the compiled templates too.
    """
    from imsclinic.core.warmup import warm_up

    server.log.info("compiled %d templates before starting the workers", warm_up())
    # What the master holds now (Django, the app, the compiled templates) lives as long as
    # every worker. Frozen, the workers' garbage collector no longer walks it on each full
    # collection, and the memory stays shared with the master (Python's gc.freeze, meant
    # for servers that fork).
    gc.collect()
    gc.freeze()
    server.log.info("froze %d objects before starting the workers", gc.get_freeze_count())


# A request may take a minute (a PDF); a restart lets requests under way finish for 30 s.
timeout = 60
graceful_timeout = 30
# Longer than Caddy keeps an idle connection to us (30 s), so Caddy never reuses one that
# gunicorn has just closed.
keepalive = 75
# Replace each worker now and then, so slow growth of memory never adds up.
max_requests = 1000
max_requests_jitter = 100

# The service manager restarts and stops gunicorn; no control socket is needed.
control_socket_disable = True
proc_name = "imsclinic-web"

# Both logs go to standard output and error, which systemd's journal keeps.
accesslog = "-"
errorlog = "-"
loglevel = "info"
# Time, method, route, status, bytes, duration. The route is the URL pattern, not the path
# asked for (see RouteOnlyLogger), and there is no query string, referrer or user agent:
# search terms, patient ids and link tokens stay out of the log.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'


class RouteOnlyLogger(Logger):
    """Write the matched URL pattern (`/staff/patients/<int:patient_id>/`) in the access log.

    Paths carry patient ids and the tokens of check-in, invitation, waitlist and calendar
    links; the pattern says which page answered without either. Static files keep their
    (hashed) names; a path that matches nothing is written as "(unmatched)".
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        route = _route(environ.get("PATH_INFO") or "/")
        atoms["U"] = route
        atoms["q"] = ""
        atoms["f"] = "-"
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {route} {environ.get('SERVER_PROTOCOL')}"
        return atoms


def _route(path: str) -> str:
    from django.conf import settings
    from django.urls import resolve

    if path.startswith(settings.STATIC_URL):
        return path
    try:
        route = resolve(path).route
    except Exception:
        # Resolver404, or a path Django cannot even read: no log line is worth an error.
        return "(unmatched)"
    # A pattern written as a regular expression reads like the others: (?P<key>...) is <key>.
    return "/" + _NAMED_GROUP.sub(r"<\1>", route).removeprefix("^").removesuffix("$")


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


logger_class = RouteOnlyLogger
