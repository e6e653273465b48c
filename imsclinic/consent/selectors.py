"""Reads of consent that pages, the API and the needling interlock share."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from imsclinic.accounts.models import User
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.consent.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    VersionStatus,
)
from imsclinic.patients.models import Patient


class StateCode:
    """Why consent is (or is not) in place, for templates to choose their words."""

    SIGNED = "signed"
    NOT_SIGNED = "not_signed"
    RECONSENT = "reconsent"
    WITHDRAWN = "withdrawn"
    NO_DOCUMENT = "no_document"


@dataclass(frozen=True)
class ConsentState:
    current: ConsentSignature | None
    missing: str | None
    code: str = StateCode.SIGNED
    latest: ConsentVersion | None = None  # the version a patient must have signed
    last: ConsentSignature | None = None  # the patient's most recent signature, any version

    @property
    def ok(self) -> bool:
        return self.current is not None


def withdrawal_notice_team(patient: Patient) -> list[str]:
    """Return the addresses told of a withdrawal: active practitioners on the care team."""
    return sorted(
        address
        for address in User.objects.filter(
            is_active=True,
            practitioner__is_active=True,
            practitioner__in=patient.care_team.all(),
        ).values_list("email", flat=True)
        if address
    )


def local_time_text(moment: dt.datetime, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """Return a moment as the clinic's wall-clock time with its zone, e.g. 2 May 2026 10:04 PDT."""
    zone = zone or clinic_zone()
    local = moment.astimezone(zone)
    return f"{formats.date_format(local, 'j F Y H:i')} {local.tzname()} ({zone.key})"


def needling_document() -> ConsentDocument | None:
    return ConsentDocument.objects.filter(for_needling=True).first()


def latest_published_version(document: ConsentDocument | None = None) -> ConsentVersion | None:
    """Return the newest published version of a document (the needling consent by default)."""
    versions = ConsentVersion.objects.filter(status=VersionStatus.PUBLISHED)
    if document is not None:
        versions = versions.filter(document=document)
    else:
        versions = versions.filter(document__for_needling=True)
    return versions.select_related("document").order_by("-number").first()


def signatures_of(patient: Patient) -> QuerySet[ConsentSignature]:
    """Return a patient's signatures, newest first, with their versions and people loaded."""
    return (
        ConsentSignature.objects.filter(patient=patient)
        .select_related("version__document", "recorded_by", "withdrawn_by")
        .order_by("-signed_at", "-pk")
    )


def consent_state(patient: Patient) -> ConsentState:
    """Say whether the patient's needling consent stands and, if not, what is missing."""
    latest = latest_published_version()
    # A patient has a handful of signatures at most: one query, then pick in Python.
    signed = list(signatures_of(patient).filter(version__document__for_needling=True))
    last = signed[0] if signed else None
    if latest is None:
        return ConsentState(
            current=None,
            missing=_("No consent document has been published yet."),
            code=StateCode.NO_DOCUMENT,
            last=last,
        )
    current = next(
        (s for s in signed if s.version_id == latest.pk and s.withdrawn_at is None), None
    )
    if current is not None:
        return ConsentState(current=current, missing=None, latest=latest, last=current)
    if last is None:
        return ConsentState(
            current=None,
            missing=_("The patient has not signed the consent to needling."),
            code=StateCode.NOT_SIGNED,
            latest=latest,
        )
    if last.withdrawn_at is not None:
        return ConsentState(
            current=None,
            missing=_("The patient withdrew consent on %(when)s.")
            % {"when": local_time_text(last.withdrawn_at)},
            code=StateCode.WITHDRAWN,
            latest=latest,
            last=last,
        )
    return ConsentState(
        current=None,
        missing=_(
            "Consent version %(new)d was published; the patient signed version %(old)d "
            "and must sign again."
        )
        % {"new": latest.number, "old": last.version.number},
        code=StateCode.RECONSENT,
        latest=latest,
        last=last,
    )
