"""Small readers of rendered HTML for the public-site tests."""

from __future__ import annotations

import html
import re


def title_of(content: bytes) -> str:
    match = re.search(rb"<title>(.*?)</title>", content, re.S)
    assert match, "page has no <title>"
    return html.unescape(" ".join(match.group(1).decode().split()))


def description_of(content: bytes) -> str:
    match = re.search(rb'<meta name="description" content="([^"]*)">', content)
    assert match, "page has no meta description"
    return html.unescape(match.group(1).decode()).strip()


def element_by_id(content: bytes, tag: str, element_id: str) -> str:
    """Return the text of the (non-nested) <tag id=...> element, tags stripped."""
    match = re.search(
        rf'<{tag}[^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</{tag}>'.encode(), content, re.S
    )
    assert match, f"no <{tag} id={element_id!r}> on the page"
    text = re.sub(r"<[^>]+>", " ", match.group(1).decode())
    return " ".join(html.unescape(text).split())


def text_of(content: bytes) -> str:
    """Return the page's visible-ish text: tags stripped, whitespace squeezed."""
    body = content.split(b"<body", 1)[-1].decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
