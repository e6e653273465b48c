"""The to-do list: the signed-in practitioner's notes left unsigned for more than a day."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from imsclinic.charting import selectors
from imsclinic.clinic.selectors import clinic_zone
from imsclinic.core.access import require_perm
from imsclinic.core.audit import audit_view
from imsclinic.core.http import SignedInRequest
from imsclinic.core.models import ObjectType


@login_required
def todo_page(request: SignedInRequest) -> HttpResponse:
    """List the signed-in practitioner's notes left unsigned for more than a day."""
    require_perm(request, "charting.view_todo", object_type=ObjectType.UNSIGNED_NOTES)
    notes = selectors.unsigned_notes_for(request.user, now=timezone.now())
    audit_view(request, ObjectType.UNSIGNED_NOTES, detail={"shown": len(notes)})
    return render(
        request,
        "charting/todo.html",
        {"notes": notes, "zone": clinic_zone(), "hours": 24},
    )
