"""Staff pages for needle stock: lots, recalls, who was needled with a lot, the sharps log."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from imsclinic.clinic.forms import (
    NeedleLotForm,
    RecallForm,
    SharpsCollectForm,
    SharpsOpenForm,
    StockLevelForm,
    size_value,
)
from imsclinic.clinic.models import NeedleLot, SharpsContainer
from imsclinic.clinic.selectors import (
    LotTrace,
    clinic_zone,
    lot_patients,
    sharps_log,
    stock_by_size,
    stock_overview,
    weekly_use,
)
from imsclinic.clinic.services import (
    StockRefused,
    needle_lot_add,
    needle_lot_recall,
    needle_stock_level_set,
    sharps_container_collect,
    sharps_container_open,
    sharps_container_seal,
)
from imsclinic.core.access import record_refusal
from imsclinic.core.audit import audit_record
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import Action, ObjectType

if TYPE_CHECKING:
    from imsclinic.accounts.models import User


def _require(request: SignedInRequest, perm: str, object_type: ObjectType) -> User:
    user = request.user
    if not user.has_perm(perm):
        if perm == "clinic.trace_lot":
            # A refused look at who was needled is worth a line in the log.
            record_refusal(
                request,
                actor=user,
                action=Action.VIEW,
                object_type=object_type,
            )
        raise PermissionDenied
    return user


def _lot(lot_id: int) -> NeedleLot:
    lot = NeedleLot.objects.filter(pk=lot_id).first()
    if lot is None:
        raise Http404("No such lot.")
    return lot


@login_required
def stock_lots(request: SignedInRequest) -> HttpResponse:
    """List every needle lot and size with what is on hand, low sizes, and use per week."""
    user = _require(request, "clinic.view_stock", ObjectType.NEEDLE_LOT)
    today = timezone.localdate()
    lines = stock_overview(today)
    sizes = stock_by_size(lines)
    return render(
        request,
        "clinic/stock_lots.html",
        {
            "lines": lines,
            "sizes": sizes,
            "low_sizes": [size for size in sizes if size.is_low],
            "use": weekly_use(today),
            "today": today,
            "can_manage": user.has_perm("clinic.manage_stock"),
            "can_trace": user.has_perm("clinic.trace_lot"),
            "can_set_levels": user.has_perm("clinic.set_stock_levels"),
        },
    )


@login_required
def stock_levels(request: SignedInRequest) -> HttpResponse:
    """Let the owner set the low-stock level of a needle size."""
    user = _require(request, "clinic.set_stock_levels", ObjectType.NEEDLE_STOCK_LEVEL)
    sizes = stock_by_size(stock_overview(timezone.localdate()))
    by_value = {size_value(size.diameter_mm, size.length_mm): size for size in sizes}
    choices = [(value, size.size_label) for value, size in by_value.items()]
    initial = {"size": request.GET.get("size", "")}
    chosen = by_value.get(initial["size"])
    if chosen is not None and chosen.warn_below is not None:
        initial["warn_below"] = str(chosen.warn_below)
    form = StockLevelForm(
        request.POST if request.method == "POST" else None, sizes=choices, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        size = by_value[form.cleaned_data["size"]]
        warn_below = form.cleaned_data["warn_below"]
        try:
            needle_stock_level_set(
                diameter_mm=size.diameter_mm,
                length_mm=size.length_mm,
                warn_below=warn_below,
                actor=user,
                request=request,
            )
        except StockRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            if warn_below is None:
                text = _("%(size)s has no low-stock level now.") % {"size": size.size_label}
            else:
                text = _("You will be warned when fewer than %(n)d of %(size)s are on hand.") % {
                    "n": warn_below,
                    "size": size.size_label,
                }
            messages.success(request, text)
            return redirect("stock_lots")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "clinic/stock_levels.html", {"form": form, "sizes": sizes}, status=status
    )


@login_required
def stock_lot_new(request: SignedInRequest) -> HttpResponse:
    """Record a delivered lot."""
    user = _require(request, "clinic.manage_stock", ObjectType.NEEDLE_LOT)
    form = NeedleLotForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            lot = needle_lot_add(
                lot_number=data["lot_number"],
                manufacturer=data["manufacturer"],
                diameter_mm=data["diameter_mm"],
                length_mm=data["length_mm"],
                expires_on=data["expires_on"],
                quantity_received=data["quantity_received"],
                received_on=data["received_on"],
                actor=user,
                request=request,
            )
        except StockRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(request, _("Added lot %(lot)s to stock.") % {"lot": lot.lot_number})
            return redirect("stock_lots")
    status = 400 if request.method == "POST" else 200
    return render(request, "clinic/stock_lot_new.html", {"form": form}, status=status)


@login_required
def stock_lot_recall(request: SignedInRequest, lot_id: int) -> HttpResponse:
    """Recall a lot so that no one can choose it again; the reason is kept."""
    user = _require(request, "clinic.manage_stock", ObjectType.NEEDLE_LOT)
    lot = _lot(lot_id)
    form = RecallForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            needle_lot_recall(
                lot=lot, reason=form.cleaned_data["reason"], actor=user, request=request
            )
        except StockRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Lot %(lot)s is recalled: it can no longer be chosen for needling.")
                % {"lot": lot.lot_number},
            )
            return redirect("stock_lot_patients", lot_id=lot.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "clinic/stock_lot_recall.html",
        {"lot": lot, "form": form, "zone": clinic_zone()},
        status=status,
    )


def _trace(request: SignedInRequest, lot_id: int, *, action: Action) -> LotTrace:
    user = _require(request, "clinic.trace_lot", ObjectType.NEEDLE_LOT_PATIENTS)
    lot = _lot(lot_id)
    trace = lot_patients(lot, user=user)
    audit_record(
        actor=user,
        action=action,
        object_type=ObjectType.NEEDLE_LOT_PATIENTS,
        object_id=lot.pk,
        request=request,
        detail={
            "lot_number": lot.lot_number,
            "shown": [item.patient_id for item in trace.patients],
            "not_shown": trace.not_shown,
            **({"format": "csv"} if action == Action.EXPORT else {}),
        },
    )
    return trace


@login_required
def stock_lot_patients(request: SignedInRequest, lot_id: int) -> HttpResponse:
    """Show which patients were needled with a lot (for a recall), with how to reach them."""
    trace = _trace(request, lot_id, action=Action.VIEW)
    return render(
        request,
        "clinic/stock_lot_patients.html",
        {"trace": trace, "lot": trace.lot, "today": timezone.localdate(), "zone": clinic_zone()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with one of these as a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
def stock_lot_patients_csv(request: SignedInRequest, lot_id: int) -> HttpResponse:
    """Download the same list as a spreadsheet, for calling patients about a recall."""
    trace = _trace(request, lot_id, action=Action.EXPORT)
    local = clinic_zone()
    writer = csv.writer(_Echo())
    lines = [
        writer.writerow(
            [
                _("Patient"),
                _("Date of birth"),
                _("Phone"),
                _("Email"),
                _("Sessions with this lot"),
                _("Of which not yet signed"),
                _("Insertions"),
                _("Needles"),
                _("First visit"),
                _("Last visit"),
            ]
        )
    ]
    for item in trace.patients:
        lines.append(
            writer.writerow(
                [
                    _cell(value)
                    for value in (
                        item.name,
                        item.date_of_birth.isoformat(),
                        item.phone,
                        item.email,
                        item.sessions,
                        item.unsigned_sessions,
                        item.insertions,
                        item.needles,
                        item.first_visit.astimezone(local).strftime("%Y-%m-%d %H:%M"),
                        item.last_visit.astimezone(local).strftime("%Y-%m-%d %H:%M"),
                    )
                ]
            )
        )
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    safe_number = "".join(ch if ch.isalnum() else "-" for ch in trace.lot.lot_number)
    response["Content-Disposition"] = f'attachment; filename="lot-{safe_number}-patients.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def sharps_log_page(request: SignedInRequest) -> HttpResponse:
    """List the sharps containers with when each was opened, sealed and collected."""
    user = _require(request, "clinic.view_stock", ObjectType.SHARPS_CONTAINER)
    can_manage = user.has_perm("clinic.manage_stock")
    form = SharpsOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                sharps_container_open(
                    label=form.cleaned_data["label"],
                    location=form.cleaned_data["location"],
                    notes=form.cleaned_data["notes"],
                    actor=user,
                    request=request,
                )
            except StockRefused as refusal:
                refusal_to_form(form, refusal)
            else:
                messages.success(request, _("Recorded the new container as opened."))
                return redirect("sharps_log")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "clinic/sharps_log.html",
        {
            "containers": sharps_log(),
            "form": form,
            "collect_form": SharpsCollectForm(),
            "can_manage": can_manage,
            "zone": clinic_zone(),
        },
        status=status,
    )


def _container(container_id: int) -> SharpsContainer:
    container = SharpsContainer.objects.filter(pk=container_id).first()
    if container is None:
        raise Http404("No such container.")
    return container


@require_POST
@login_required
def sharps_seal(request: SignedInRequest, container_id: int) -> HttpResponse:
    """Seal a full container."""
    user = _require(request, "clinic.manage_stock", ObjectType.SHARPS_CONTAINER)
    container = _container(container_id)
    try:
        sharps_container_seal(container=container, actor=user, request=request)
    except StockRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Container %(label)s is sealed.") % {"label": container.label})
    return redirect("sharps_log")


@login_required
def sharps_collect(request: SignedInRequest, container_id: int) -> HttpResponse:
    """Record the pick-up of a sealed container."""
    user = _require(request, "clinic.manage_stock", ObjectType.SHARPS_CONTAINER)
    container = _container(container_id)
    form = SharpsCollectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sharps_container_collect(
                container=container,
                collected_by_name=form.cleaned_data["name"],
                collected_by_company=form.cleaned_data["company"],
                actor=user,
                request=request,
            )
        except StockRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Container %(label)s is recorded as collected.") % {"label": container.label},
            )
            return redirect("sharps_log")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "clinic/sharps_collect.html",
        {"container": container, "form": form, "zone": clinic_zone()},
        status=status,
    )
