from django.urls import path

from imsclinic.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("what-is-ims/", views.what_is_ims, name="what_is_ims"),
    path("safety/", views.safety, name="safety"),
    path("ims-and-dry-needling/", views.ims_vs_dry_needling, name="ims_vs_dry_needling"),
    path("faq/", views.faq, name="faq"),
    path("practitioners/", views.practitioners, name="practitioners"),
    path("practitioners/<slug:slug>/", views.practitioner_detail, name="practitioner_detail"),
    path("locations/", views.locations, name="locations"),
    path("book/", views.book, name="book"),
]
