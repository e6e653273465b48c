"""The practitioner's private iCal feed: its settings page, a new address, and the feed itself."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.clinic.models import Practitioner
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_record
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType
from imsclinic.core.params import id_param
from imsclinic.scheduling.feed import (
    feed_appointments,
    feed_path,
    practitioner_for_feed_token,
)
from imsclinic.scheduling.ics import practitioner_feed_ics
from imsclinic.scheduling.services.feed import practitioner_feed_revoke
from imsclinic.scheduling.views.calendar import own_practitioner


@login_required
def calendar_feed_settings(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.CALENDAR_FEED)
    practitioner = own_practitioner(request)
    manages_all = request.user.has_perm("clinic.configure")
    if practitioner is None and not manages_all:
        raise PermissionDenied
    context: dict[str, Any] = {
        "practitioner": practitioner,
        "feed_url": request.build_absolute_uri(feed_path(practitioner)) if practitioner else "",
        "others": list(Practitioner.objects.filter(is_active=True)) if manages_all else [],
    }
    return render(request, "scheduling/feed_settings.html", context)


@require_POST
@login_required
def calendar_feed_revoke(request: SignedInRequest) -> HttpResponse:
    require_perm(request, "scheduling.use_calendar", object_type=ObjectType.CALENDAR_FEED)
    raw = request.POST.get("practitioner", "")
    if raw:
        practitioner_id = id_param(raw)
        if practitioner_id is None:
            raise Http404
        practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
    else:
        own = own_practitioner(request)
        if own is None:
            raise PermissionDenied
        practitioner = own
    practitioner_feed_revoke(practitioner=practitioner, actor=request.user, request=request)
    if practitioner.user_id == request.user.pk:
        messages.success(
            request,
            _(
                "Your calendar has a new address. The old one no longer works: add the new "
                "one to your calendar app."
            ),
        )
    else:
        messages.success(
            request,
            _("%(name)s's calendar feed has a new address; the old one no longer works.")
            % {"name": practitioner.display_name},
        )
    return redirect("calendar_feed_settings")


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Serve a practitioner's feed to whoever holds the current signed address."""
    practitioner = practitioner_for_feed_token(token)
    if practitioner is None:
        raise Http404
    appointments = list(feed_appointments(practitioner))
    body = practitioner_feed_ics(practitioner, appointments)
    # Calendar apps fetch with no session; record the fetch (initials only leave the clinic).
    audit_record(
        actor=None,
        action=Action.VIEW,
        object_type=ObjectType.CALENDAR_FEED,
        object_id=practitioner.pk,
        request=request,
        detail={"appointments": len(appointments)},
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="visits.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
