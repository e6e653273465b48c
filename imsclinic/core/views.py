"""The owner's view of the audit log."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("core.view_audit_log"):
        raise PermissionDenied
    return render(request, "core/audit_log.html")


@login_required
def audit_log_csv(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("core.view_audit_log"):
        raise PermissionDenied
    return HttpResponse("", content_type="text/csv")
