"""The signed consent as a PDF: an HTML template rendered by WeasyPrint, with no network."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from imsclinic.clinic.models import Clinic
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.consent.models import ConsentSignature
from imsclinic.consent.selectors import local_time_text
from imsclinic.consent.text import body_html, paragraphs

# WeasyPrint reports each layout step at INFO; the logs need none of that.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _local_fetcher() -> Any:
    """Return a WeasyPrint fetcher that reads data: URLs and files under static/, nothing else."""
    from weasyprint.urls import URLFetcher

    static_root = (settings.BASE_DIR / "static").as_uri() + "/"

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if not (url.startswith("data:") or url.startswith(static_root)) or ".." in url:
                # Never reach the network (or elsewhere on disk) while making a record.
                raise ValueError(f"refused to fetch {url[:80]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=("data", "file"), timeout=2)


def signature_html(signature: ConsentSignature) -> str:
    """Render the HTML the PDF is made from."""
    zone = clinic_zone()
    version = signature.version
    # The signed text as stored, not as the version reads today (they match by the hash).
    title, _sep, body = signature.text_shown.partition("\n\n")
    clinic = Clinic.current()
    return render_to_string(
        "consent/signature_pdf.html",
        {
            "clinic_name": clinic.name if clinic is not None else "",
            "signature": signature,
            "version": version,
            "title": title,
            "body": body_html(body),
            "paragraph_count": len(paragraphs(body)),
            "signed_at": local_time_text(signature.signed_at, zone),
            "withdrawn_at": (
                local_time_text(signature.withdrawn_at, zone)
                if signature.withdrawn_at is not None
                else ""
            ),
            "drawn_is_png": signature.drawn_signature.startswith("data:image/png;base64,"),
        },
    )


def signature_pdf(signature: ConsentSignature) -> bytes:
    """Return the signed consent as PDF bytes."""
    from weasyprint import HTML

    html = signature_html(signature)
    base = (settings.BASE_DIR / "static").as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=_local_fetcher()).write_pdf()  # type: ignore[no-any-return]


def pdf_filename(signature: ConsentSignature) -> str:
    return f"consent-v{signature.version.number}-{signature.signed_at:%Y-%m-%d}-{signature.pk}.pdf"
