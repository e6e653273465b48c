"""The public site: what IMS is, safety, the team, locations, FAQ and the way to book."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html")
