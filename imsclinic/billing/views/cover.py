"""A patient's insurance policies and third-party claims, for the front desk and the owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from imsclinic.billing.claims import claim_usages
from imsclinic.billing.errors import BillingRefused
from imsclinic.billing.models import Claim, Payer, Policy
from imsclinic.billing.services.cover import (
    AUTHORISED_VISITS_MAX,
    ClaimDetails,
    PolicyDetails,
    claim_close,
    claim_open,
    claim_update,
    policy_add,
    policy_end,
    policy_update,
)
from imsclinic.core.audit import audit_view
from imsclinic.core.form_errors import error_summary, refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.models import Patient
from imsclinic.patients.selectors import patient_for_user


def _limit(model: type[Any], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _payers(current: Payer | None = None) -> Any:
    # Payers out of use take no new cover, but a record that names one still shows it.
    return Payer.objects.filter(Q(is_active=True) | Q(pk=current.pk if current else None))


def _offer(field: forms.Field, rows: Sequence[Any]) -> None:
    """Show these rows, already read, as the choices of a model choice field.

    The page reads the payers and the patient's policies once for all its forms; without this
    each form's field would read them again when drawn. What a posted form accepts is still
    checked against the field's queryset.
    """
    assert isinstance(field, forms.ModelChoiceField)
    empty = [] if field.empty_label is None else [("", field.empty_label)]
    field.choices = [*empty, *((row.pk, field.label_from_instance(row)) for row in rows)]


def _offered_payers(payers: Sequence[Payer], current: Payer | None) -> list[Payer]:
    return [p for p in payers if p.is_active or (current is not None and p.pk == current.pk)]


class DateInput(forms.DateInput):
    input_type = "date"


class PolicyForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), label=gettext_lazy("Payer"))
    member_number = forms.CharField(
        label=gettext_lazy("Member or policy number"), max_length=_limit(Policy, "member_number")
    )
    plan_name = forms.CharField(
        label=gettext_lazy("Plan or group"), max_length=_limit(Policy, "plan_name"), required=False
    )
    holder_name = forms.CharField(
        label=gettext_lazy("Policy holder"),
        max_length=_limit(Policy, "holder_name"),
        required=False,
        help_text=gettext_lazy("Leave empty when the patient holds it."),
    )
    holder_relationship = forms.CharField(
        label=gettext_lazy("Holder is the patient's"),
        max_length=_limit(Policy, "holder_relationship"),
        required=False,
        help_text=gettext_lazy("For example: spouse, parent."),
    )
    coverage_notes = forms.CharField(
        label=gettext_lazy("Coverage notes"),
        max_length=_limit(Policy, "coverage_notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        current: Payer | None = None,
        payers: Sequence[Payer] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = _payers(current)  # type: ignore[attr-defined]
        if payers is not None:
            _offer(self.fields["payer"], _offered_payers(payers, current))

    def details(self) -> PolicyDetails:
        data = self.cleaned_data
        return PolicyDetails(
            payer=data["payer"],
            member_number=data["member_number"],
            plan_name=data["plan_name"],
            holder_name=data["holder_name"],
            holder_relationship=data["holder_relationship"],
            coverage_notes=data["coverage_notes"],
        )


class ClaimForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), label=gettext_lazy("Payer"))
    claim_number = forms.CharField(
        label=gettext_lazy("Claim number"), max_length=_limit(Claim, "claim_number")
    )
    policy = forms.ModelChoiceField(
        queryset=Policy.objects.none(),
        label=gettext_lazy("Under the policy"),
        required=False,
        help_text=gettext_lazy("Optional: the patient's policy with the same payer."),
    )
    authorised_visits = forms.IntegerField(
        label=gettext_lazy("Authorised visits"),
        min_value=1,
        max_value=AUTHORISED_VISITS_MAX,
        required=False,
        help_text=gettext_lazy("Leave empty when the payer gave no limit."),
    )
    authorised_from = forms.DateField(
        label=gettext_lazy("Authorised from"), required=False, widget=DateInput
    )
    authorised_until = forms.DateField(
        label=gettext_lazy("Authorised until"), required=False, widget=DateInput
    )
    payer_share_percent = forms.DecimalField(
        label=gettext_lazy("Payer pays (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=100,
        help_text=gettext_lazy("The share of each visit's invoice billed to the payer."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        max_length=_limit(Claim, "notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        patient: Patient,
        current: Payer | None = None,
        payers: Sequence[Payer] | None = None,
        policies: Sequence[Policy] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer"].queryset = _payers(current)  # type: ignore[attr-defined]
        self.fields["policy"].queryset = _patient_policies(patient)  # type: ignore[attr-defined]
        if payers is not None:
            _offer(self.fields["payer"], _offered_payers(payers, current))
        if policies is not None:
            _offer(self.fields["policy"], policies)

    def details(self) -> ClaimDetails:
        data = self.cleaned_data
        return ClaimDetails(
            payer=data["payer"],
            claim_number=data["claim_number"],
            policy=data["policy"],
            authorised_visits=data["authorised_visits"],
            authorised_from=data["authorised_from"],
            authorised_until=data["authorised_until"],
            payer_share_percent=data["payer_share_percent"],
            notes=data["notes"],
        )


def _patient_policies(patient: Patient) -> Any:
    return Policy.objects.filter(patient=patient).select_related("payer")


def _policy_initial(policy: Policy) -> dict[str, Any]:
    return {
        "payer": policy.payer_id,
        "member_number": policy.member_number,
        "plan_name": policy.plan_name,
        "holder_name": policy.holder_name,
        "holder_relationship": policy.holder_relationship,
        "coverage_notes": policy.coverage_notes,
    }


def _claim_initial(claim: Claim) -> dict[str, Any]:
    return {
        "payer": claim.payer_id,
        "claim_number": claim.claim_number,
        "policy": claim.policy_id,
        "authorised_visits": claim.authorised_visits,
        "authorised_from": claim.authorised_from,
        "authorised_until": claim.authorised_until,
        "payer_share_percent": claim.payer_share_percent,
        "notes": claim.notes,
    }


def _pick(request: SignedInRequest, model: type[Any], patient: Patient, key: str) -> Any:
    """Return the patient's policy or claim the form names; None for anyone else's."""
    raw = request.POST.get(key, "")
    if not raw.isdigit():
        return None
    return model.objects.filter(patient=patient, pk=int(raw)).select_related("payer").first()


@login_required
def billing_patient_cover(request: SignedInRequest, patient_id: int) -> HttpResponse:
    """The patient's policies and claims, with forms to add, correct, end and close them."""
    patient = patient_for_user(
        request,
        user=request.user,
        patient_id=patient_id,
        perm="billing.edit_cover",
        asked_for=ObjectType.CLAIM,
    )
    policies = list(_patient_policies(patient))
    claims = list(Claim.objects.filter(patient=patient).select_related("payer", "policy"))
    # Every form offers the same payers and policies: read once for the page, not per form.
    named = {p.payer_id for p in policies} | {c.payer_id for c in claims}
    payers = list(Payer.objects.filter(Q(is_active=True) | Q(pk__in=named)))
    policy_forms = {
        p.pk: PolicyForm(
            initial=_policy_initial(p), prefix=f"policy-{p.pk}", current=p.payer, payers=payers
        )
        for p in policies
        if p.is_active
    }
    claim_forms = {
        c.pk: ClaimForm(
            initial=_claim_initial(c),
            prefix=f"claim-{c.pk}",
            patient=patient,
            current=c.payer,
            payers=payers,
            policies=policies,
        )
        for c in claims
        if c.is_open
    }
    new_policy = PolicyForm(prefix="policy", payers=payers)
    new_claim = ClaimForm(prefix="claim", patient=patient, payers=payers, policies=policies)
    failed: forms.Form | None = None
    refusal_message = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "policy_add":
                new_policy = failed = PolicyForm(request.POST, prefix="policy")
                if new_policy.is_valid():
                    policy_add(
                        patient=patient,
                        details=new_policy.details(),
                        actor=request.user,
                        request=request,
                    )
                    messages.success(request, _("Added the policy."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
            elif action in ("policy_update", "policy_end"):
                policy = _pick(request, Policy, patient, "policy_id")
                if policy is None:
                    messages.error(request, _("That policy is not on this patient's record."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
                if action == "policy_end":
                    policy_end(policy=policy, actor=request.user, request=request)
                    messages.success(request, _("The policy is marked as ended."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
                form = failed = PolicyForm(
                    request.POST, prefix=f"policy-{policy.pk}", current=policy.payer
                )
                policy_forms[policy.pk] = form
                if form.is_valid():
                    policy_update(
                        policy=policy, details=form.details(), actor=request.user, request=request
                    )
                    messages.success(request, _("Saved the policy."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
            elif action == "claim_open":
                new_claim = failed = ClaimForm(request.POST, prefix="claim", patient=patient)
                if new_claim.is_valid():
                    claim_open(
                        patient=patient,
                        details=new_claim.details(),
                        actor=request.user,
                        request=request,
                    )
                    messages.success(request, _("Opened the claim."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
            elif action in ("claim_update", "claim_close"):
                claim = _pick(request, Claim, patient, "claim_id")
                if claim is None:
                    messages.error(request, _("That claim is not on this patient's record."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
                if action == "claim_close":
                    claim_close(claim=claim, actor=request.user, request=request)
                    messages.success(request, _("The claim is closed."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
                claim_form = failed = ClaimForm(
                    request.POST, prefix=f"claim-{claim.pk}", patient=patient, current=claim.payer
                )
                claim_forms[claim.pk] = claim_form
                if claim_form.is_valid():
                    claim_update(
                        claim=claim,
                        details=claim_form.details(),
                        actor=request.user,
                        request=request,
                    )
                    messages.success(request, _("Saved the claim."))
                    return redirect("billing_patient_cover", patient_id=patient.pk)
            else:
                messages.info(request, _("Nothing was changed."))
                return redirect("billing_patient_cover", patient_id=patient.pk)
        except BillingRefused as refusal:
            if failed is None:
                refusal_message = refusal.message
            else:
                refusal_to_form(failed, refusal)
    audit_view(request, ObjectType.CLAIM, patient=patient, detail={"page": "cover"})
    usages = {usage.claim.pk: usage for usage in claim_usages(patient, claims=claims)}
    context = {
        "patient": patient,
        "policies": [(p, policy_forms.get(p.pk)) for p in policies],
        "claims": [(c, usages[c.pk], claim_forms.get(c.pk)) for c in claims],
        "new_policy": new_policy,
        "new_claim": new_claim,
        "failed": failed,
        "refusal_message": refusal_message,
        "errors": error_summary(failed) if failed is not None else [],
    }
    status = 400 if failed is not None or refusal_message else 200
    return render(request, "billing/cover.html", context, status=status)
