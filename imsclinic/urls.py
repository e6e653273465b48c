"""Top-level URL map: public site, accounts, patient portal, staff pages, owner admin, API."""

from django.urls import include, path

from imsclinic.api.api import api
from imsclinic.clinic.admin import owner_site

urlpatterns = [
    path("", include("imsclinic.web.urls")),
    path("accounts/", include("imsclinic.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("imsclinic.portal.urls")),
    path("staff/", include("imsclinic.patients.urls")),
    path("staff/", include("imsclinic.core.urls")),
    path("manage/", owner_site.urls),
    path("api/v1/", api.urls),
]
