"""The patient's waitlist pages: join, see and withdraw entries, and claim an offered time."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from imsclinic.clinic.models import Service
from imsclinic.core.access import record_refusal
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.core.params import id_param
from imsclinic.patients.access import own_patient, patient_page, patients_own
from imsclinic.patients.models import Patient
from imsclinic.portal.forms import WaitlistJoinForm
from imsclinic.scheduling.models import WaitlistEntry
from imsclinic.scheduling.services.booking import BookingError
from imsclinic.scheduling.services.waitlist import (
    ClaimLinkExpired,
    ClaimLinkInvalid,
    OfferClosed,
    OfferGone,
    WaitlistError,
    offer_for_token,
    offer_state,
    waitlist_claim,
    waitlist_entries_for_patient,
    waitlist_join,
    waitlist_withdraw,
)

DEFAULT_WAIT_DAYS = 28


def _initial(request: HttpRequest) -> dict[str, object]:
    """Prefill the join form from links on the booking pages (?service=SLUG&practitioner=ID)."""
    today = timezone.localdate()
    initial: dict[str, object] = {
        "earliest": today,
        "latest": today + dt.timedelta(days=DEFAULT_WAIT_DAYS),
    }
    slug = request.GET.get("service", "")
    service = Service.objects.filter(slug=slug, is_active=True).first() if slug else None
    if service is not None:
        initial["service"] = service.pk
    for name in ("practitioner", "location"):
        value = id_param(request.GET.get(name))
        if value is not None:
            initial[name] = value
    date = request.GET.get("date", "")
    try:
        if date:
            initial["earliest"] = dt.date.fromisoformat(date)
    except ValueError:
        pass
    return initial


@require_http_methods(["GET", "POST"])
@patient_page
def waitlist_join_page(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Let a patient say which service (and optionally who, where, when) they are waiting for."""
    if request.method == "POST":
        form = WaitlistJoinForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                waitlist_join(
                    patient=patient,
                    service=data["service"],
                    practitioner=data["practitioner"],
                    location=data["location"],
                    earliest=data["earliest"],
                    latest=data["latest"],
                    actor=request.user,
                    request=request,
                )
            except WaitlistError as refusal:
                refusal_to_form(form, refusal)
            else:
                messages.success(
                    request,
                    _("You are on the waitlist. We will email you when a time opens up."),
                )
                return redirect("waitlist_list")
    else:
        form = WaitlistJoinForm(initial=_initial(request))
    return render(request, "portal/waitlist_join.html", {"form": form})


@patient_page
def waitlist_list(request: SignedInRequest, patient: Patient) -> HttpResponse:
    """Show a patient what they are waiting for, with a way to leave."""
    entries = waitlist_entries_for_patient(patient)
    return render(request, "portal/waitlist_list.html", {"entries": entries})


@require_POST
@login_required
def waitlist_withdraw_page(request: SignedInRequest, entry_id: int) -> HttpResponse:
    """Take one of the patient's own entries off the waitlist."""
    patient = own_patient(request.user)
    entry = patients_own(
        request,
        patient,
        WaitlistEntry.objects.all(),
        entry_id,
        object_type=ObjectType.WAITLIST_ENTRY,
    )
    try:
        waitlist_withdraw(entry=entry, actor=request.user, request=request)
    except WaitlistError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You have left the waitlist for %(service)s.") % {"service": entry.service.name},
        )
    return redirect("waitlist_list")


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_claim_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show an offered time; book it only on POST (mail scanners follow links with GET).

    The signed token is the key, like a sign-in link: no sign-in is needed, and the page
    shows only the time, the service and the practitioner, nothing else about the patient.
    """
    try:
        offer = offer_for_token(token)
    except ClaimLinkInvalid as error:
        record_refusal(request, object_type=ObjectType.WAITLIST_OFFER, reason="invalid claim link")
        return render(request, "portal/waitlist_claim.html", {"problem": str(error)}, status=404)
    except ClaimLinkExpired as error:
        return render(request, "portal/waitlist_claim.html", {"problem": str(error)})
    error_message = ""
    if request.method == "POST":
        try:
            waitlist_claim(offer=offer, actor=offer.entry.patient.user, request=request)
        except (OfferGone, OfferClosed):
            pass  # the page now says whether the time went to someone else or expired
        except BookingError as error:
            error_message = str(error)  # nothing changed; say why
        if not error_message:
            return redirect("waitlist_claim", token=token)
    context = {
        "offer": offer,
        "state": offer_state(offer),
        "service": offer.entry.service,
        "error_message": error_message,
    }
    return render(request, "portal/waitlist_claim.html", context)
