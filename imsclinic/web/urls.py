from django.urls import path

from imsclinic.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("what-is-ims/", views.home, name="what_is_ims"),
    path("safety/", views.home, name="safety"),
    path("ims-and-dry-needling/", views.home, name="ims_vs_dry_needling"),
    path("faq/", views.home, name="faq"),
    path("practitioners/", views.home, name="practitioners"),
    path("locations/", views.home, name="locations"),
    path("book/", views.home, name="book"),
]
