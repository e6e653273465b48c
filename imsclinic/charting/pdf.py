"""Chart summaries as PDFs: an HTML template rendered by WeasyPrint, with no network.

Two documents: the referral / insurer summary a practitioner produces (findings, segmental
diagnosis, sessions with their muscles and pain scores) and the patient's own notes in
plain words. The fetcher reads data: URLs and files under static/ only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from imsclinic.charting.models import SignalFinding
from imsclinic.charting.selectors import Chart
from imsclinic.clinic.models import Clinic
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from imsclinic.accounts.models import User

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _local_fetcher() -> Any:
    """Return a WeasyPrint fetcher that refuses anything but data: URLs and static/ files."""
    from weasyprint.urls import URLFetcher

    static_root = (settings.BASE_DIR / "static").as_uri() + "/"

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            if not (url.startswith("data:") or url.startswith(static_root)) or ".." in url:
                raise ValueError(f"refused to fetch {url[:80]}")
            return super().fetch(url, headers)

    return LocalOnlyFetcher(allowed_protocols=("data", "file"), timeout=2)


def render_pdf(html: str) -> bytes:
    """Return the HTML as PDF bytes, fetching nothing from outside static/."""
    from weasyprint import HTML

    base = (settings.BASE_DIR / "static").as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=_local_fetcher()).write_pdf()  # type: ignore[no-any-return]


def _clinic_name() -> str:
    clinic = Clinic.current()
    return clinic.name if clinic is not None else ""


def chart_summary_html(chart: Chart, *, author: User, zone: ZoneInfo) -> str:
    """Render the referral / insurer summary: signed assessments and notes only."""
    assessments = [a for a in chart.assessments if a.is_signed]
    findings = [
        {
            "assessment": assessment,
            "present": [s for s in assessment.signs.all() if s.finding == SignalFinding.PRESENT],
            "segments": list(assessment.segments.all()),
        }
        for assessment in assessments
    ]
    sessions = sorted(chart.signed_sessions, key=lambda s: s.appointment.start)
    return render_to_string(
        "charting/chart_summary_pdf.html",
        {
            "clinic_name": _clinic_name(),
            "patient": chart.patient,
            "findings": findings,
            "sessions": sessions,
            "physio_notes": sorted(chart.signed_physio_notes, key=lambda n: n.appointment.start),
            "author": author.get_full_name() or author.email,
            "made_at": timezone.now(),
            "zone": zone,
        },
    )


def chart_summary_pdf_bytes(chart: Chart, *, author: User, zone: ZoneInfo) -> bytes:
    return render_pdf(chart_summary_html(chart, author=author, zone=zone))


def portal_summary_html(patient: Patient, notes: list[dict[str, Any]], *, zone: ZoneInfo) -> str:
    """Render the patient's own notes in plain words."""
    return render_to_string(
        "charting/portal_notes_pdf.html",
        {
            "clinic_name": _clinic_name(),
            "patient": patient,
            "notes": notes,
            "made_at": timezone.now(),
            "zone": zone,
        },
    )


def portal_summary_pdf_bytes(
    patient: Patient, notes: list[dict[str, Any]], *, zone: ZoneInfo
) -> bytes:
    return render_pdf(portal_summary_html(patient, notes, zone=zone))
