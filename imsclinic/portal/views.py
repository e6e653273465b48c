"""Pages for signed-in patients."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def portal_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")
