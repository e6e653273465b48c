"""Top-level URL map: public site, accounts, patient portal, staff pages, owner admin, API."""

from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from imsclinic.api.api import api
from imsclinic.clinic.admin import owner_site
from imsclinic.scheduling.urls import feed_urlpatterns

urlpatterns = [
    path("", include("imsclinic.web.urls")),
    path("accounts/", include("imsclinic.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("imsclinic.portal.urls")),
    path("staff/", include("imsclinic.patients.urls")),
    path("staff/", include("imsclinic.core.urls")),
    path("staff/", include("imsclinic.scheduling.urls")),
    path("staff/billing/", include("imsclinic.billing.urls")),
    path("", include("imsclinic.safety.urls")),
    path("", include("imsclinic.intake.urls")),
    path("", include("imsclinic.consent.urls")),
    path("", include("imsclinic.charting.urls")),
    path("", include("imsclinic.outcomes.urls")),
    path("", include("imsclinic.followup.urls")),
    path("", include("imsclinic.clinic.urls")),
    path("calendar/", include(feed_urlpatterns)),
    path("manage/", owner_site.urls),
    path("api/v1/", api.urls),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's). The address is
    # looked up on first use: the production manifest does not exist at import time.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("img/favicon.svg"), permanent=True),
    ),
]

# A form too large to read (RequestDataTooBig) answers 413, not a bare 400.
handler400 = "imsclinic.core.error_views.bad_request"
