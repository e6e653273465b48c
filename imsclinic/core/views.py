"""The owner's view of the audit log, and its CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_record
from imsclinic.core.forms import AuditFilterForm
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, AuditEvent, ObjectType
from imsclinic.core.selectors import audit_events_for_form

PAGE_SIZE = 50
CSV_HEADER = (
    "id",
    "time_utc",
    "user_email",
    "role",
    "patient_id",
    "patient_name",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "ip",
    "detail",
)


def _require_owner(request: HttpRequest, action: Action) -> None:
    """Refuse anyone but the owner, and note the refused attempt in the log itself."""
    if not request.user.has_perm("core.view_audit_log"):
        raise refuse(
            request, object_type=ObjectType.AUDIT_LOG, action=action, error=PermissionDenied()
        )


def _filter_context(form: AuditFilterForm) -> dict[str, Any]:
    chosen_id = form.cleaned_data.get("patient") if form.is_valid() else None
    # The patient model is the one audit rows point at; core does not import the patients app.
    patients = AuditEvent._meta.get_field("patient").related_model._default_manager
    chosen = patients.filter(pk=chosen_id).first() if chosen_id else None
    return {"form": form, "patient_id": chosen_id, "chosen_patient": chosen}


@login_required
def audit_log(request: SignedInRequest) -> HttpResponse:
    _require_owner(request, Action.VIEW)
    form = AuditFilterForm(request.GET)
    context = _filter_context(form)
    if not form.is_valid():
        # Show the mistakes and no rows: a list under a filter that was not applied misleads.
        return render(request, "core/audit_log.html", {**context, "page": None})
    page = Paginator(audit_events_for_form(form.cleaned_data), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    events = list(page.object_list)  # read before this look is itself written down
    audit_record(
        actor=request.user,
        action=Action.VIEW,
        object_type=ObjectType.AUDIT_LOG,
        patient_id=context["patient_id"],
        request=request,
        detail={"filters": form.filters_for_the_record(), "page": page.number},
    )
    return render(request, "core/audit_log.html", {**context, "page": page, "events": events})


class _Echo:
    """A file-like object that hands back what csv.writer writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with one of these as a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _csv_lines(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events.iterator(chunk_size=1000):
        patient = event.patient
        yield writer.writerow(
            [
                _cell(item)
                for item in (
                    event.pk,
                    event.at_utc,
                    event.actor_email,
                    event.role,
                    event.patient_id,
                    patient.full_name if patient is not None else "",
                    event.action,
                    event.object_type,
                    event.object_id,
                    event.outcome,
                    event.ip,
                    json.dumps(event.detail, sort_keys=True, ensure_ascii=False),
                )
            ]
        )


@login_required
def audit_log_csv(request: SignedInRequest) -> HttpResponse | StreamingHttpResponse:
    _require_owner(request, Action.EXPORT)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = {**_filter_context(form), "page": None}
        return render(request, "core/audit_log.html", context, status=400)
    audit_record(
        actor=request.user,
        action=Action.EXPORT,
        object_type=ObjectType.AUDIT_LOG,
        patient_id=form.cleaned_data.get("patient"),
        request=request,
        detail={"filters": form.filters_for_the_record(), "format": "csv"},
    )
    response = StreamingHttpResponse(
        _csv_lines(audit_events_for_form(form.cleaned_data)),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
