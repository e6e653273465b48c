"""Compile every template and load the URLs and translations once, before workers fork.

gunicorn's master imports the app (`preload_app`) and calls `warm_up` before it starts its
workers (`deploy/gunicorn.conf.py`), so each worker, and each worker that replaces one after
`max_requests`, starts with the compiled templates of the cached loader, the URL resolver
and the message catalogues already in memory (shared, copy-on-write), instead of building
them again on its first requests. Nothing here touches the database: a connection opened
before the fork would be shared by every worker.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = (".html", ".txt")


def template_names() -> list[str]:
    """The clinic's own templates, by the name pages ask for them (not the libraries')."""
    engine = engines["django"].engine  # type: ignore[attr-defined]
    names: set[str] = set()
    ours = Path(settings.BASE_DIR) / "imsclinic"
    folders = {Path(d) for loader in engine.template_loaders for d in loader.get_dirs()}
    for folder in (folder for folder in folders if folder.is_relative_to(ours)):
        if folder.is_dir():
            names.update(
                path.relative_to(folder).as_posix()
                for path in folder.rglob("*")
                if path.suffix in TEMPLATE_SUFFIXES and path.is_file()
            )
    return sorted(names)


def warm_up() -> int:
    """Compile every template into the cached loader; return how many were compiled."""
    get_resolver().url_patterns  # noqa: B018 - builds the URL patterns once
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("")  # loads the language's catalogues
    engine = engines["django"]
    compiled = 0
    for name in template_names():
        try:
            engine.get_template(name)
        except TemplateSyntaxError as error:
            # Left for the page that uses it to report, as it would without the warm-up.
            logger.warning("warm-up: template %s does not compile: %s", name, error)
            continue
        compiled += 1
    return compiled
