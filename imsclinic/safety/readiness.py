"""The interlock: whether a patient may be needled now, and if not, exactly what is missing.

Needling needs all of: a submitted intake that is still current (re-confirmed within the
clinic's `intake_valid_months`, and on a form that asked every question asked today: an
intake from before the chest-and-lung questions must be re-confirmed with them), a
practitioner's decision on that intake that is not "not suitable", and the patient's
signature on the latest published consent version, not withdrawn. Scheduling refuses to
start treatment without it; charting calls `require_needling_readiness` before a needling
session is started or signed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from imsclinic.clinic.selectors import clinic_date_text
from imsclinic.consent.selectors import consent_state
from imsclinic.patients.models import Patient
from imsclinic.safety.errors import NeedlingNotAllowed
from imsclinic.safety.models import Clearance
from imsclinic.safety.selectors import screening_for


@dataclass(frozen=True)
class Readiness:
    ready: bool
    missing: list[str] = field(default_factory=list)


def needling_readiness(patient: Patient, *, at: dt.datetime) -> Readiness:
    """Say whether the patient may be needled at `at`, and list in words what is missing."""
    missing: list[str] = []
    screening = screening_for(patient, at=at)
    intake = screening.intake
    if intake is None:
        missing.append(_("The patient has not answered the health questions (intake)."))
    else:
        assert intake.submitted_at is not None
        if not screening.intake_current:
            missing.append(
                _(
                    "The health questions answered on %(day)s are out of date: the patient "
                    "must re-confirm them."
                )
                % {"day": clinic_date_text(intake.submitted_at)}
            )
        elif screening.not_asked:
            missing.append(
                _(
                    "The health questions answered on %(day)s were asked before the questions "
                    "about the chest and lungs: the patient must re-confirm them and answer "
                    "the new questions."
                )
                % {"day": clinic_date_text(intake.submitted_at)}
            )
        clearance = screening.clearance
        if clearance is None:
            earlier = Clearance.objects.filter(patient=patient).order_by("-decided_at").first()
            if earlier is None:
                missing.append(_("No practitioner has recorded a screening decision."))
            else:
                missing.append(
                    _(
                        "The last screening decision (%(decided)s) was made before the health "
                        "questions answered on %(day)s: record a new decision."
                    )
                    % {
                        "decided": clinic_date_text(earlier.decided_at),
                        "day": clinic_date_text(intake.submitted_at),
                    }
                )
        elif not clearance.allows_needling:
            missing.append(
                _("%(name)s decided on %(day)s that IMS is not suitable for this patient.")
                % {
                    "name": clearance.decided_by.get_full_name() or clearance.decided_by.email,
                    "day": clinic_date_text(clearance.decided_at),
                }
            )
    consent = consent_state(patient)
    if consent.missing:
        missing.append(consent.missing)
    return Readiness(ready=not missing, missing=missing)


def require_needling_readiness(patient: Patient, *, at: dt.datetime) -> None:
    """Refuse (NeedlingNotAllowed, listing what is missing) unless the patient may be needled."""
    readiness = needling_readiness(patient, at=at)
    if not readiness.ready:
        raise NeedlingNotAllowed(readiness.missing)
