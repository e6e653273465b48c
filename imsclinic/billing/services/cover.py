"""A patient's insurance policies and third-party claims, kept by the front desk and the owner.

A policy or a claim is never deleted: a policy that lapses is ended (no longer in force), a
claim whose case is over is closed. Both stay on record with the invoices billed under them.
An open claim's share is what `invoice_for_visit` bills to its payer for a visit on a day
its authorisation covers.

Locks: the patient, then the policy or claim changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from imsclinic.billing.access import require_actor
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import DESCRIPTION_MAX, NOTE_MAX, REFERENCE_MAX, Claim, Payer, Policy
from imsclinic.core.audit import audit_record
from imsclinic.core.locking import lock_rows
from imsclinic.core.models import Action, ObjectType
from imsclinic.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from imsclinic.accounts.models import User

RELATIONSHIP_MAX = Policy._meta.get_field("holder_relationship").max_length or 60
AUTHORISED_VISITS_MAX = 32767


@dataclass(frozen=True)
class PolicyDetails:
    """What the front desk writes down about a patient's cover with a payer."""

    payer: Payer
    member_number: str
    plan_name: str = ""
    holder_name: str = ""
    holder_relationship: str = ""
    coverage_notes: str = ""


@dataclass(frozen=True)
class ClaimDetails:
    """A third-party case: its number, payer, authorised visits and dates, the payer's share."""

    payer: Payer
    claim_number: str
    policy: Policy | None = None
    authorised_visits: int | None = None
    authorised_from: dt.date | None = None
    authorised_until: dt.date | None = None
    payer_share_percent: Decimal = Decimal("100")
    notes: str = ""


def _text(value: str, limit: int, field: str, *, required: str = "") -> str:
    value = (value or "").strip()
    if required and not value:
        raise BillingRefused(required, field=field)
    if len(value) > limit:
        raise BillingRefused(_("Keep this under %(n)d characters.") % {"n": limit}, field=field)
    return value


def _payer_in_use(payer: Payer, *, current: Payer | None = None) -> None:
    # A payer taken out of use keeps its old policies and claims, but takes no new ones.
    if not payer.is_active and (current is None or current.pk != payer.pk):
        raise BillingRefused(
            _("%(payer)s is no longer in use; choose another payer.") % {"payer": payer.name},
            field="payer",
        )


def _checked_policy(details: PolicyDetails) -> PolicyDetails:
    return PolicyDetails(
        payer=details.payer,
        member_number=_text(
            details.member_number,
            REFERENCE_MAX,
            "member_number",
            required=_("Give the member or policy number."),
        ),
        plan_name=_text(details.plan_name, DESCRIPTION_MAX, "plan_name"),
        holder_name=_text(details.holder_name, DESCRIPTION_MAX, "holder_name"),
        holder_relationship=_text(
            details.holder_relationship, RELATIONSHIP_MAX, "holder_relationship"
        ),
        coverage_notes=_text(details.coverage_notes, NOTE_MAX, "coverage_notes"),
    )


def _policy_detail(policy: Policy) -> dict[str, object]:
    return {
        "payer": policy.payer_id,
        "member_number": policy.member_number,
        "plan_name": policy.plan_name,
        "is_active": policy.is_active,
    }


def policy_add(
    *,
    patient: Patient,
    details: PolicyDetails,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Policy:
    """Record a patient's cover with a payer."""
    require_actor(actor, "billing.edit_cover", patient)
    details = _checked_policy(details)
    _payer_in_use(details.payer)
    with transaction.atomic():
        lock_rows(Patient, patient.pk)
        policy = Policy.objects.create(
            patient=patient,
            payer=details.payer,
            member_number=details.member_number,
            plan_name=details.plan_name,
            holder_name=details.holder_name,
            holder_relationship=details.holder_relationship,
            coverage_notes=details.coverage_notes,
        )
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.POLICY,
            object_id=policy.pk,
            patient=patient,
            request=request,
            detail=_policy_detail(policy),
        )
    return policy


def _locked_policy(policy: Policy) -> Policy:
    lock_rows(Patient, policy.patient_id)
    lock_rows(Policy, policy.pk)
    return Policy.objects.select_related("payer").get(pk=policy.pk)


def policy_update(
    *,
    policy: Policy,
    details: PolicyDetails,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Policy:
    """Correct a policy in force (a new member number, a change of plan)."""
    require_actor(actor, "billing.edit_cover", policy.patient)
    details = _checked_policy(details)
    with transaction.atomic():
        locked = _locked_policy(policy)
        if not locked.is_active:
            raise BillingRefused(
                _("This policy has ended and cannot change; add the new one instead.")
            )
        _payer_in_use(details.payer, current=locked.payer)
        if details.payer.pk != locked.payer_id and locked.claims.exists():
            raise BillingRefused(
                _("Claims were opened under this policy with its payer; add a new policy."),
                field="payer",
            )
        before = _policy_detail(locked)
        locked.payer = details.payer
        locked.member_number = details.member_number
        locked.plan_name = details.plan_name
        locked.holder_name = details.holder_name
        locked.holder_relationship = details.holder_relationship
        locked.coverage_notes = details.coverage_notes
        locked.save(
            update_fields=[
                "payer",
                "member_number",
                "plan_name",
                "holder_name",
                "holder_relationship",
                "coverage_notes",
            ]
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.POLICY,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"before": before, "after": _policy_detail(locked)},
        )
    policy.refresh_from_db()
    return policy


def policy_end(*, policy: Policy, actor: User | None, request: HttpRequest | None = None) -> Policy:
    """Mark a policy as no longer in force; it stays on record."""
    require_actor(actor, "billing.edit_cover", policy.patient)
    with transaction.atomic():
        locked = _locked_policy(policy)
        if not locked.is_active:
            raise BillingRefused(_("This policy has already ended."))
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.POLICY,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"ended": True},
        )
    policy.refresh_from_db()
    return policy


def _checked_claim(patient_id: int, details: ClaimDetails) -> ClaimDetails:
    number = _text(
        details.claim_number, REFERENCE_MAX, "claim_number", required=_("Give the claim number.")
    )
    visits = details.authorised_visits
    if visits is not None and not 0 < visits <= AUTHORISED_VISITS_MAX:
        raise BillingRefused(
            _("Authorised visits must be a whole number more than zero, or left empty."),
            field="authorised_visits",
        )
    if (
        details.authorised_from is not None
        and details.authorised_until is not None
        and details.authorised_until < details.authorised_from
    ):
        raise BillingRefused(
            _("The authorisation cannot end before it starts."), field="authorised_until"
        )
    try:
        share = Decimal(details.payer_share_percent).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError) as error:
        raise BillingRefused(
            _("Give the payer's share as a percentage."), field="payer_share_percent"
        ) from error
    if not Decimal("0") <= share <= Decimal("100"):
        raise BillingRefused(
            _("The payer's share must be between 0 and 100%."), field="payer_share_percent"
        )
    policy = details.policy
    if policy is not None:
        if policy.patient_id != patient_id:
            raise BillingRefused(_("That policy is another patient's."), field="policy")
        if policy.payer_id != details.payer.pk:
            raise BillingRefused(
                _("That policy is with %(payer)s, not with the claim's payer.")
                % {"payer": policy.payer.name},
                field="policy",
            )
    return ClaimDetails(
        payer=details.payer,
        claim_number=number,
        policy=policy,
        authorised_visits=visits,
        authorised_from=details.authorised_from,
        authorised_until=details.authorised_until,
        payer_share_percent=share,
        notes=_text(details.notes, NOTE_MAX, "notes"),
    )


def _number_free(details: ClaimDetails, *, but: int | None = None) -> None:
    taken = Claim.objects.filter(payer=details.payer, claim_number__iexact=details.claim_number)
    if but is not None:
        taken = taken.exclude(pk=but)
    if taken.exists():
        raise _number_taken(details)


def _number_taken(details: ClaimDetails) -> BillingRefused:
    return BillingRefused(
        _("%(payer)s already has a claim numbered %(number)s.")
        % {"payer": details.payer.name, "number": details.claim_number},
        field="claim_number",
    )


def _create_claim(patient: Patient, details: ClaimDetails) -> Claim:
    return Claim.objects.create(
        patient=patient,
        payer=details.payer,
        policy=details.policy,
        claim_number=details.claim_number,
        authorised_visits=details.authorised_visits,
        authorised_from=details.authorised_from,
        authorised_until=details.authorised_until,
        payer_share_percent=details.payer_share_percent,
        notes=details.notes,
    )


def _claim_detail(claim: Claim) -> dict[str, object]:
    return {
        "payer": claim.payer_id,
        "claim_number": claim.claim_number,
        "authorised_visits": claim.authorised_visits,
        "authorised_from": claim.authorised_from.isoformat() if claim.authorised_from else None,
        "authorised_until": claim.authorised_until.isoformat() if claim.authorised_until else None,
        "payer_share_percent": str(claim.payer_share_percent),
        "is_open": claim.is_open,
    }


def claim_open(
    *,
    patient: Patient,
    details: ClaimDetails,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Claim:
    """Open a third-party claim: visits on the days it covers bill its share to the payer."""
    require_actor(actor, "billing.edit_cover", patient)
    details = _checked_claim(patient.pk, details)
    _payer_in_use(details.payer)
    with transaction.atomic():
        lock_rows(Patient, patient.pk)
        _number_free(details)
        try:
            with transaction.atomic():
                claim = _create_claim(patient, details)
        except IntegrityError as error:
            # Another desk gave the payer's same number a moment ago (the unique constraint).
            raise _number_taken(details) from error
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type=ObjectType.CLAIM,
            object_id=claim.pk,
            patient=patient,
            request=request,
            detail=_claim_detail(claim),
        )
    return claim


def _locked_claim(claim: Claim) -> Claim:
    lock_rows(Patient, claim.patient_id)
    lock_rows(Claim, claim.pk)
    return Claim.objects.select_related("payer").get(pk=claim.pk)


def claim_update(
    *,
    claim: Claim,
    details: ClaimDetails,
    actor: User | None,
    request: HttpRequest | None = None,
) -> Claim:
    """Change an open claim: more visits authorised, new dates, a corrected number.

    Invoices already drafted or issued under it keep the share they were given.
    """
    require_actor(actor, "billing.edit_cover", claim.patient)
    details = _checked_claim(claim.patient_id, details)
    with transaction.atomic():
        locked = _locked_claim(claim)
        if not locked.is_open:
            raise BillingRefused(_("This claim is closed and cannot change."))
        _payer_in_use(details.payer, current=locked.payer)
        if details.payer.pk != locked.payer_id and locked.invoices.exists():
            raise BillingRefused(
                _("Invoices were billed to this claim's payer; open a new claim instead."),
                field="payer",
            )
        _number_free(details, but=locked.pk)
        before = _claim_detail(locked)
        locked.payer = details.payer
        locked.policy = details.policy
        locked.claim_number = details.claim_number
        locked.authorised_visits = details.authorised_visits
        locked.authorised_from = details.authorised_from
        locked.authorised_until = details.authorised_until
        locked.payer_share_percent = details.payer_share_percent
        locked.notes = details.notes
        locked.save(
            update_fields=[
                "payer",
                "policy",
                "claim_number",
                "authorised_visits",
                "authorised_from",
                "authorised_until",
                "payer_share_percent",
                "notes",
            ]
        )
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.CLAIM,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"before": before, "after": _claim_detail(locked)},
        )
    claim.refresh_from_db()
    return claim


def claim_close(*, claim: Claim, actor: User | None, request: HttpRequest | None = None) -> Claim:
    """Close a claim: later visits are no longer billed to its payer; it stays on record."""
    require_actor(actor, "billing.edit_cover", claim.patient)
    with transaction.atomic():
        locked = _locked_claim(claim)
        if not locked.is_open:
            raise BillingRefused(_("This claim is already closed."))
        locked.is_open = False
        locked.save(update_fields=["is_open"])
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type=ObjectType.CLAIM,
            object_id=locked.pk,
            patient_id=locked.patient_id,
            request=request,
            detail={"closed": True},
        )
    claim.refresh_from_db()
    return claim
