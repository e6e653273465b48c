"""Consent text to HTML, and drawn signatures checked: pure functions, no ORM, no request.

The text markup is deliberately tiny, so an owner cannot break a page and nothing typed is
ever taken as HTML:
- a blank line separates paragraphs;
- a paragraph whose lines all start with "- " is a bulleted list;
- a one-line paragraph starting with "## " is a heading.
Everything is escaped.
"""

from __future__ import annotations

import base64
import binascii
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# SVG path data as our canvas script writes it: absolute moves and lines, numbers only.
_SVG_PATH = re.compile(r"^[MLml0-9.,\s-]+$")
_PNG_PREFIX = "data:image/png;base64,"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def paragraphs(body: str) -> list[str]:
    """Split text into paragraphs at blank lines, dropping empty ones."""
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]


def body_html(body: str) -> SafeString:
    """Render consent text as escaped HTML: paragraphs, bulleted lists and headings."""
    parts: list[str] = []
    for block in paragraphs(body):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) == 1 and lines[0].startswith("## "):
            parts.append(f"<h3>{escape(lines[0][3:].strip())}</h3>")
        elif lines and all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{escape(line[2:].strip())}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append("<p>" + "<br>".join(escape(line) for line in lines) + "</p>")
    return mark_safe("\n".join(parts))  # noqa: S308 - every piece above is escaped


class DrawnSignatureError(ValueError):
    """The drawn signature is not one this clinic accepts; str() is for the user."""


def check_drawn_signature(value: str, *, max_chars: int) -> str:
    """Return the drawn signature normalised ("" for none), or raise DrawnSignatureError.

    Accepted: SVG path data of moves and lines (what static/js/consent-sign.js writes), or
    a PNG image as a data URL.
    """
    value = value.strip()
    if not value:
        return ""
    if len(value) > max_chars:
        raise DrawnSignatureError("too_large")
    if value.startswith(_PNG_PREFIX):
        try:
            raw = base64.b64decode(value[len(_PNG_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise DrawnSignatureError("not_png") from None
        if not raw.startswith(_PNG_MAGIC):
            raise DrawnSignatureError("not_png")
        return value
    normalised = " ".join(value.split())
    if not _SVG_PATH.match(normalised) or not normalised.upper().startswith("M"):
        raise DrawnSignatureError("not_path")
    if not re.search(r"[Ll]", normalised):
        raise DrawnSignatureError("empty")
    return normalised
