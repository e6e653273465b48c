"""The needling session note of one visit: start, chart the rows, save as you go, sign, addenda.

One page, one URL. Each button is a plain form POST (`action`), so the page works without
JavaScript; htmx only posts the same form in the background ("autosave") and swaps in the
"Saved 10:42" line. A draft is saved with whatever is valid; rows with a problem stay on the
page as typed, with the problem written beside them, and are stored once complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from imsclinic.charting import services
from imsclinic.charting.body_chart import REGION_CODES, Needled, build_chart, region_choices
from imsclinic.charting.catalogue import body_order
from imsclinic.charting.errors import ChartingError
from imsclinic.charting.forms.infection_control import (
    SHOWN,
    InfectionControlForm,
    initial_for,
    stored_choice,
)
from imsclinic.charting.forms.session import (
    AddendumForm,
    ChestWallForm,
    RowForm,
    SessionForm,
    StartForm,
    bound_rows,
    muscles_by_region,
)
from imsclinic.charting.models import (
    Grasp,
    InfectionControlRecord,
    Muscle,
    NeedleSide,
    NeedlingSession,
    Tolerance,
)
from imsclinic.charting.segments import SEGMENTS
from imsclinic.charting.selectors import (
    chest_wall_rows,
    infection_control_of,
    infection_control_protocol,
    lung_risk,
    sharps_containers_for_visit,
    technique_confirmed,
    visit_assessment_on_file,
)
from imsclinic.clinic.selectors import clinic_zone, usable_lots
from imsclinic.core.access import refuse
from imsclinic.core.audit import audit_view
from imsclinic.core.errors import Refused
from imsclinic.core.form_errors import refusal_to_form, row_refusals
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType
from imsclinic.patients.selectors import patient_for_user
from imsclinic.safety.errors import NeedlingNotAllowed
from imsclinic.scheduling.models import Appointment

CHART_PERM = "charting.view_chart"
ROW_FIELDS = (
    "muscle",
    "side",
    "segment",
    "insertions",
    "needles_used",
    "needle_lot",
    "grasp",
    "release",
    "twitch",
    "tolerance",
    "note",
)


@dataclass
class RowView:
    """One row as the page draws it: the values as typed (or stored) and their problems."""

    index: int | str
    values: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)
    precaution: bool = False
    muscle_name: str = ""

    @property
    def index_str(self) -> str:
        return str(self.index)

    @property
    def number(self) -> str:
        return str(self.index + 1) if isinstance(self.index, int) else "__n__"


def _stored_values(row: Any) -> dict[str, Any]:
    return {
        "muscle": str(row.muscle_id),
        "side": row.side,
        "segment": row.segment,
        "insertions": str(row.insertions),
        "needles_used": str(row.needles_used),
        "needle_lot": str(row.needle_lot_id),
        "grasp": row.grasp,
        "release": row.release,
        "twitch": row.twitch,
        "tolerance": row.tolerance,
        "note": row.note,
    }


def _blank_values(after: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new row: the side and lot of the row above it, the usual defaults for the rest."""
    return {
        "muscle": "",
        "side": (after or {}).get("side") or NeedleSide.LEFT,
        "segment": "",
        "insertions": "",
        "needles_used": "1",
        "needle_lot": (after or {}).get("needle_lot") or "",
        "grasp": Grasp.NONE,
        "release": False,
        "twitch": False,
        "tolerance": Tolerance.GOOD,
        "note": "",
    }


def _row_view(index: int, values: dict[str, Any], muscles: Mapping[int, Muscle]) -> RowView:
    try:
        muscle = muscles.get(int(values.get("muscle") or 0))
    except ValueError:
        muscle = None
    return RowView(
        index=index,
        values=values,
        precaution=bool(muscle and muscle.thoracic_precaution),
        muscle_name=muscle.name if muscle else "",
    )


def chart_visit(
    request: SignedInRequest, appointment_id: int, *, object_type: ObjectType
) -> Appointment:
    """Return the visit if the user may read its patient's chart; 404 for anyone else,
    audited as asking for the visit's note of `object_type`."""
    appointment = (
        Appointment.objects.select_related("patient", "service", "practitioner__user", "location")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        raise refuse(
            request, object_type=object_type, object_id=appointment_id, reason="no such visit"
        )
    patient_for_user(
        request,
        user=request.user,
        patient_id=appointment.patient_id,
        perm=CHART_PERM,
        asked_for=object_type,
        asked_id=appointment.pk,
    )
    return appointment


def _visit(request: SignedInRequest, appointment_id: int) -> Appointment:
    return chart_visit(request, appointment_id, object_type=ObjectType.NEEDLING_SESSION)


def _visit_day(appointment: Appointment) -> dt.date:
    zone = appointment.location.zone
    return appointment.start.astimezone(zone).date()


@dataclass
class Page:
    """Everything the template needs, built once per request."""

    appointment: Appointment
    session: NeedlingSession | None
    muscles: dict[int, Muscle]
    lots: dict[int, Any]
    region: str = ""
    query: str = ""
    infection_record: InfectionControlRecord | None = None


def _page(appointment: Appointment, *, region: str, query: str) -> Page:
    session = (
        NeedlingSession.objects.filter(appointment=appointment)
        .select_related(
            "practitioner",
            "signed_by",
            "assessment",
            "infection_control__sharps_container",
            "infection_control__confirmed_by",
        )
        .first()
    )
    catalogue = list(Muscle.objects.filter(is_active=True).in_body_order())
    muscles = {m.pk: m for m in catalogue}
    if session is not None:
        for row in session.rows.select_related("muscle"):
            muscles.setdefault(row.muscle_id, row.muscle)
    lots = {lot.pk: lot for lot in usable_lots(_visit_day(appointment))}
    record = infection_control_of(session) if session is not None else None
    return Page(appointment, session, muscles, lots, region, query, record)


def _rows_from_post(data: Mapping[str, Any], page: Page) -> tuple[list[RowView], list[RowForm]]:
    forms = bound_rows(data, muscles=page.muscles, lots=page.lots)
    views = []
    for index, form in enumerate(forms):
        values = {
            name: data.get(form.add_prefix(name), "")
            for name in ROW_FIELDS
            if name not in ("release", "twitch")
        }
        values["release"] = bool(data.get(form.add_prefix("release")))
        values["twitch"] = bool(data.get(form.add_prefix("twitch")))
        view = _row_view(index, values, page.muscles)
        if not form.is_valid():
            view.errors = _form_errors(form)
        views.append(view)
    return views, forms


def _form_errors(form: RowForm) -> dict[str, list[str]]:
    return {name: [str(error) for error in errors] for name, errors in form.errors.items()}


def _service_row(cleaned: dict[str, Any]) -> services.RowInput:
    return services.RowInput(
        muscle_id=cleaned["muscle_obj"].pk,
        side=cleaned["side"],
        segment=cleaned["segment"],
        insertions=cleaned["insertions"],
        needles_used=cleaned["needles_used"],
        needle_lot_id=cleaned["lot_obj"].pk,
        grasp=cleaned["grasp"],
        release=cleaned["release"],
        twitch=cleaned["twitch"],
        tolerance=cleaned["tolerance"],
        note=cleaned["note"],
    )


@dataclass
class SaveResult:
    saved: bool
    complete: bool
    form: SessionForm
    rows: list[RowView]
    message: str = ""


def _save(request: SignedInRequest, page: Page) -> SaveResult:
    """Store what is valid of the posted note; report what is not."""
    assert page.session is not None
    form = SessionForm(request.POST)
    rows, row_forms = _rows_from_post(request.POST, page)
    valid_rows = [(view, rf) for view, rf in zip(rows, row_forms, strict=True) if rf.is_valid()]
    header_ok = form.is_valid()
    fields = dict(form.cleaned_data) if header_ok else _stored_header(page.session)
    if "reason_no_assessment" not in request.POST:
        fields.pop("reason_no_assessment", None)  # not on the page: keep what is stored
    try:
        services.session_save_draft(
            session=page.session,
            data=fields,
            rows=[_service_row(rf.cleaned_data) for _view, rf in valid_rows],
            actor=request.user,
            request=request,
        )
    except ChartingError as refusal:
        for index, part in row_refusals(refusal, "rows").items():
            if index < len(valid_rows):
                view, row_form = valid_rows[index]
                refusal_to_form(row_form, part)
                view.errors = _form_errors(row_form)
        header = {name: message for name, message in refusal.errors.items() if "." not in name}
        if header:
            refusal_to_form(form, Refused(refusal.message, errors=header))
        return SaveResult(False, False, form, rows, refusal.message)
    complete = header_ok and len(valid_rows) == len(rows)
    return SaveResult(True, complete, form, rows)


def _stored_header(session: NeedlingSession) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SessionForm.base_fields}


def _saved_line(session: NeedlingSession | None) -> str:
    if session is None:
        return ""
    local = timezone.localtime(session.updated_at, clinic_zone())
    return _("Saved %(time)s") % {"time": local.strftime("%H:%M")}


def _filter(source: Mapping[str, Any]) -> tuple[str, str]:
    region = str(source.get("region", "") or "")
    return (region if region in REGION_CODES else ""), str(source.get("q", "") or "")[:60]


@login_required
@require_http_methods(["GET", "POST"])
def session_note(request: SignedInRequest, appointment_id: int) -> HttpResponse:
    """Show or chart the needling note of one visit."""
    appointment = _visit(request, appointment_id)
    source = request.POST if request.method == "POST" else request.GET
    region, query = _filter(source)
    page = _page(appointment, region=region, query=query)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    here = reverse("session_note", args=[appointment.pk])

    if action == "start":
        return _start(request, page, here)
    if page.session is None:
        audit_view(
            request,
            ObjectType.NEEDLING_SESSION,
            patient=page.appointment.patient,
            object_id=page.session.pk if page.session else "",
            detail={"appointment": page.appointment.pk},
        )
        return _render(request, page, refusal=None)
    if page.session.is_signed:
        if action == "addendum":
            return _addendum(request, page, here)
        if action == "autosave" and request.headers.get("HX-Request"):
            return render(
                request,
                "charting/session_save_status.html",
                {"result": SaveResult(False, False, SessionForm(), [], _("this note is signed."))},
            )
        if request.method == "POST":
            # Nothing else changes a signed note, whatever the request says.
            messages.error(request, _("This note is signed: it cannot be changed."))
            return redirect(here)
        audit_view(
            request,
            ObjectType.NEEDLING_SESSION,
            patient=page.appointment.patient,
            object_id=page.session.pk if page.session else "",
            detail={"appointment": page.appointment.pk},
        )
        return _render(request, page)
    if request.method == "GET":
        audit_view(
            request,
            ObjectType.NEEDLING_SESSION,
            patient=page.appointment.patient,
            object_id=page.session.pk if page.session else "",
            detail={"appointment": page.appointment.pk},
        )
        return _render(request, page)
    if not request.user.has_perm("charting.edit_draft", page.session):
        raise refuse(
            request,
            object_type=ObjectType.NEEDLING_SESSION,
            object_id=page.session.pk if page.session else "",
            patient_id=page.appointment.patient_id,
            error=PermissionDenied(),
        )
    result = _save(request, page)
    infection_form = (
        _record_infection_control(request, page) if action in ("save", "sign") else None
    )
    if infection_form is not None and infection_form.errors:
        # Nothing is signed while what was ticked could not be recorded.
        message = _("Infection control was not recorded: correct the marked fields.")
        if action == "sign":
            problems = [message, *(str(e) for errs in infection_form.errors.values() for e in errs)]
            return _render(
                request, page, result=result, sign_missing=problems, infection_form=infection_form
            )
        result.message = result.message or message
        return _render(request, page, result=result, infection_form=infection_form)
    if action == "copy_last":
        if not (result.saved and result.complete):
            # Copy only once what was typed is safely stored; the page keeps it meanwhile.
            result.message = result.message or _(
                "Not copied yet: correct the rows marked below first, then copy again."
            )
            return _render(request, page, result=result)
        return _copy_last(request, page, here)
    if action == "chest_wall":
        return _chest_wall(request, page, here, result)
    if action == "autosave" and request.headers.get("HX-Request"):
        page.session.refresh_from_db()
        # The body chart beside the form follows what was saved (an out-of-band swap).
        return render(
            request,
            "charting/session_save_status.html",
            {
                "result": result,
                "saved_line": _saved_line(page.session),
                "region": page.region,
                **_session_chart(page.session),
            },
        )
    if action == "sign" and result.complete and result.saved:
        try:
            services.session_sign(session=page.session, actor=request.user, request=request)
        except NeedlingNotAllowed as refusal:
            return _render(request, page, result=result, sign_missing=refusal.missing)
        except ChartingError as refusal:
            problems = [refusal.message]
            problems += [message for name, message in refusal.errors.items() if "." not in name]
            for index, part in row_refusals(refusal, "rows").items():
                problems += [
                    _("Muscle %(n)d: %(problem)s") % {"n": index + 1, "problem": problem}
                    for problem in part.errors.values()
                ]
            return _render(
                request,
                page,
                result=result,
                sign_missing=problems,
                infection_form=_infection_refusal_form(request, page, refusal),
            )
        messages.success(request, _("Signed. The note can no longer be changed."))
        return redirect(here)
    if action == "sign":
        result.message = result.message or _("Not signed: correct the problems marked below first.")
    if result.saved and result.complete and action in ("save", "filter", ""):
        messages.success(request, _saved_line(page.session))
        query_string = "&".join(
            f"{key}={value}" for key, value in (("region", region), ("q", query)) if value
        )
        return redirect(f"{here}?{query_string}#rows" if query_string else here)
    add_row = action == "add_row"
    return _render(request, page, result=result, add_row=add_row)


def _infection_form(page: Page, data: Mapping[str, Any] | None = None) -> InfectionControlForm:
    """Return the infection-control part of the note: as posted, else as stored."""
    steps = infection_control_protocol()
    containers = sharps_containers_for_visit(page.appointment)
    record = page.infection_record
    if record is not None and record.sharps_container_id not in {c.pk for c in containers}:
        containers.append(record.sharps_container)  # shown, so the sign refusal can name it
    if data is not None and SHOWN in data:
        return InfectionControlForm(data, steps=steps, containers=containers)
    return InfectionControlForm(
        initial=initial_for(record, steps), steps=steps, containers=containers
    )


def _record_infection_control(request: SignedInRequest, page: Page) -> InfectionControlForm:
    """Record what the practitioner ticked and chose, when it differs from what is stored.

    Returns the form, carrying the refusal's messages when it was not recorded.
    """
    assert page.session is not None
    form = _infection_form(page, request.POST)
    if not form.is_bound or not form.is_valid():
        return form
    ticked, container_id, note = form.chosen()
    if (ticked, container_id, note.strip()) == stored_choice(page.infection_record, form.steps):
        return form
    try:
        services.infection_control_confirm(
            session=page.session,
            step_ids=ticked,
            sharps_container=form.container(),
            note=note,
            actor=request.user,
            request=request,
        )
    except ChartingError as refusal:
        refusal_to_form(form, refusal, field_map=lambda name: name if name in form.fields else None)
    else:
        page.infection_record = infection_control_of(page.session)
    return form


def _infection_refusal_form(
    request: SignedInRequest, page: Page, refusal: ChartingError
) -> InfectionControlForm:
    """Return the infection-control part with the signing refusal's messages beside it."""
    form = _infection_form(page, request.POST)
    mine = {name: message for name, message in refusal.errors.items() if name in form.fields}
    if mine:
        if not form.is_bound:
            ticked, container_id, note = stored_choice(page.infection_record, form.steps)
            data = MultiValueDict(
                {
                    SHOWN: ["1"],
                    "infection_control": [str(pk) for pk in sorted(ticked)],
                    "sharps_container": [str(container_id or "")],
                    "infection_note": [note],
                }
            )
            form = InfectionControlForm(
                data, steps=form.steps, containers=list(form.containers.values())
            )
        refusal_to_form(form, Refused(refusal.message, errors=mine))
    return form


def _copy_last(request: SignedInRequest, page: Page, here: str) -> HttpResponse:
    assert page.session is not None
    try:
        copied = services.session_copy_last_rows(
            session=page.session, actor=request.user, request=request
        )
    except ChartingError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            _("Copied %(count)d rows of the last session.") % {"count": len(copied.rows)},
        )
        for note in copied.notes:
            messages.warning(request, note)
    return redirect(f"{here}#rows")


def _chest_wall(
    request: SignedInRequest, page: Page, here: str, result: SaveResult
) -> HttpResponse:
    """Record the technique used over the chest wall, once what was typed is stored."""
    assert page.session is not None
    form = ChestWallForm(request.POST)
    if not (result.saved and result.complete):
        result.message = result.message or _(
            "The technique was not recorded yet: correct the rows marked below first."
        )
        return _render(request, page, result=result, chest_form=form)
    if form.is_valid():
        try:
            services.session_confirm_chest_wall_technique(
                session=page.session,
                technique=form.cleaned_data["chest_technique"],
                note=form.cleaned_data["chest_note"],
                actor=request.user,
                request=request,
            )
        except ChartingError as refusal:
            refusal_to_form(
                form, refusal, field_map={"technique": "chest_technique", "note": "chest_note"}
            )
        else:
            messages.success(request, _("Recorded the technique used over the chest wall."))
            return redirect(f"{here}#chest-wall")
    return _render(request, page, chest_form=form)


def _start(request: SignedInRequest, page: Page, here: str) -> HttpResponse:
    if page.session is not None:
        return redirect(here)
    reason = request.POST.get("reason_no_assessment", "")
    form = StartForm(request.POST)
    if not form.is_valid():
        problems = [_("The session note was not started: correct the marked fields.")]
        problems += [str(message) for messages_ in form.errors.values() for message in messages_]
        return _render(request, page, refusal=problems, reason=reason)
    try:
        services.session_start(
            appointment=page.appointment,
            actor=request.user,
            request=request,
            reason_no_assessment=form.cleaned_data["reason_no_assessment"],
        )
    except NeedlingNotAllowed as refusal:
        return _render(request, page, refusal=refusal.missing, reason=reason)
    except ChartingError as refusal:
        problems = list(dict.fromkeys([refusal.message, *refusal.errors.values()]))
        return _render(request, page, refusal=problems, reason=reason)
    messages.success(request, _("Started the session note."))
    return redirect(here)


def _addendum(request: SignedInRequest, page: Page, here: str) -> HttpResponse:
    assert page.session is not None
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(
                note=page.session,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
                actor=request.user,
                request=request,
            )
        except ChartingError as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(request, _("Added the addendum."))
            return redirect(f"{here}#addenda")
    return _render(request, page, addendum_form=form)


def _session_chart(session: NeedlingSession) -> dict[str, Any]:
    """Return the session's stored rows, its body chart, and the chart's rows as text."""
    stored = list(session.rows.select_related("muscle", "needle_lot").order_by("position"))
    return {
        "stored": stored,
        "chart": build_chart(
            Needled(region=row.muscle.region, side=row.side, muscle_view=row.muscle.view)
            for row in stored
        ),
        "chart_rows": [
            {"muscle": row.muscle.name, "side": row.get_side_display(), "count": 1}
            for row in sorted(stored, key=lambda row: (body_order(row.muscle), row.side))
        ],
    }


def _render(
    request: SignedInRequest,
    page: Page,
    *,
    refusal: list[str] | None = None,
    result: SaveResult | None = None,
    add_row: bool = False,
    sign_missing: list[str] | None = None,
    addendum_form: AddendumForm | None = None,
    reason: str = "",
    chest_form: ChestWallForm | None = None,
    infection_form: InfectionControlForm | None = None,
) -> HttpResponse:
    session = page.session
    context: dict[str, Any] = {
        "appointment": page.appointment,
        "patient": page.appointment.patient,
        "session": session,
        "refusal": refusal,
        "zone": clinic_zone(),
        "region": page.region,
        "query": page.query,
        "regions": region_choices(),
        "can_chart": request.user.has_perm("charting.add_note", page.appointment.patient),
    }
    if session is None or not session.is_signed:
        on_file = visit_assessment_on_file(page.appointment)
        if on_file.needed and session is not None and session.reason_no_assessment:
            on_file = replace(on_file, reason=session.reason_no_assessment, needed=False)
        context["on_file"] = on_file
    if session is None:
        context["reason_no_assessment"] = reason
        return render(request, "charting/session_start.html", context)
    chart = _session_chart(session)
    stored = chart.pop("stored")
    context.update(chart)
    if session.is_signed or not request.user.has_perm("charting.edit_draft", session):
        context.update(
            rows=stored,
            addenda=list(session.addenda.select_related("author").order_by("created_at", "pk")),
            addendum_form=addendum_form or AddendumForm(),
            infection_heading_level=2,
        )
        return render(request, "charting/session_signed.html", context)

    if result is not None:
        form = result.form
        rows = result.rows
    else:
        form = SessionForm(initial=_stored_header(session))
        rows = [
            _row_view(index, _stored_values(row), page.muscles) for index, row in enumerate(stored)
        ]
    if not rows or add_row or result is None:
        rows.append(
            _row_view(len(rows), _blank_values(rows[-1].values if rows else None), page.muscles)
        )
    groups = muscles_by_region(sorted(page.muscles.values(), key=body_order))
    if page.region:
        chosen = {row.values.get("muscle") for row in rows}
        for group in groups:
            if group.code != page.region:
                group.muscles = [m for m in group.muscles if str(m.pk) in chosen]
    if page.query:
        chosen = {row.values.get("muscle") for row in rows}
        needle = page.query.lower()
        for group in groups:
            group.muscles = [
                m for m in group.muscles if needle in m.name.lower() or str(m.pk) in chosen
            ]
    context.update(
        form=form,
        rows=rows,
        template_row=RowView(
            index="__i__", values=_blank_values(rows[-1].values if rows else None)
        ),
        groups=[g for g in groups if g.muscles],
        lots=sorted(
            page.lots.values(), key=lambda lot: (lot.diameter_mm, lot.length_mm, lot.lot_number)
        ),
        segments=SEGMENTS,
        sides=NeedleSide.choices,
        grasps=Grasp.choices,
        tolerances=Tolerance.choices,
        result=result,
        saved_line=_saved_line(session),
        sign_missing=sign_missing,
        precaution=any(row.precaution for row in rows),
        **_chest_wall_context(session, chest_form),
        infection_form=infection_form or _infection_form(page),
        infection_record=page.infection_record,
    )
    return render(request, "charting/session_draft.html", context)


def _chest_wall_context(session: NeedlingSession, form: ChestWallForm | None) -> dict[str, Any]:
    """The patient's lung risk and the note's technique confirmation, for the draft page."""
    risk = lung_risk(session.patient, at=timezone.now())
    if not risk.flagged:
        return {"lung_risk": risk}
    rows = chest_wall_rows(session)
    latest = session.chest_wall_confirmations.select_related("confirmed_by").last()
    return {
        "lung_risk": risk,
        "chest_form": form or ChestWallForm(),
        "chest_confirmation": latest,
        "chest_confirmed": bool(rows) and technique_confirmed(session, rows),
    }
