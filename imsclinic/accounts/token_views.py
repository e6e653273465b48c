"""Pages where a staff member manages their personal API tokens."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings.html")


@login_required
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    return render(request, "accounts/settings.html")
