"""The public site: what IMS is, safety, the team, locations, FAQ and the way to book."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from imsclinic.web import selectors


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Show what IMS is in brief and the way to book."""
    return render(request, "web/home.html")


@require_safe
def what_is_ims(request: HttpRequest) -> HttpResponse:
    """Explain IMS, how a visit goes, and what the research says."""
    return render(request, "web/what_is_ims.html")


@require_safe
def safety(request: HttpRequest) -> HttpResponse:
    """Explain training, needles, side effects, who should not be needled and after-care."""
    return render(request, "web/safety.html")


@require_safe
def ims_vs_dry_needling(request: HttpRequest) -> HttpResponse:
    """Compare Gunn IMS with general dry needling."""
    return render(request, "web/ims_vs_dry_needling.html")


@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    """List the published FAQ entries in the owner's order."""
    return render(request, "web/faq.html", {"entries": selectors.published_faq()})


@require_safe
def practitioners(request: HttpRequest) -> HttpResponse:
    """List the active practitioners with their credentials."""
    return render(request, "web/practitioners.html", {"cards": selectors.practitioner_cards()})


@require_safe
def practitioner_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """Show one active practitioner's registration, IMS credential, bio and locations."""
    return render(
        request, "web/practitioner_detail.html", {"card": selectors.practitioner_card(slug)}
    )


@require_safe
def locations(request: HttpRequest) -> HttpResponse:
    """List open locations with address, phone and weekly hours in local time."""
    return render(request, "web/locations.html", {"weeks": selectors.locations_with_hours()})


@require_safe
def book(request: HttpRequest) -> HttpResponse:
    """Show what can be booked online and the next step, with phone numbers as the other way."""
    context = {"services": selectors.bookable_services(), "locations": selectors.open_locations()}
    return render(request, "web/book.html", context)
