"""Consent pages: signing under portal/ (and on a clinic tablet), authoring under staff/."""

from django.urls import path

from imsclinic.consent import views

urlpatterns = [
    # The patient's own consent.
    path("portal/consent/", views.portal_consent, name="portal_consent"),
    path("portal/consent/sign/", views.portal_consent_sign, name="portal_consent_sign"),
    path("portal/consent/withdraw/", views.portal_consent_withdraw, name="portal_consent_withdraw"),
    path(
        "portal/consent/<int:signature_id>/pdf/",
        views.portal_consent_pdf,
        name="portal_consent_pdf",
    ),
    # Staff: signing on the clinic tablet, signed copies, recording a withdrawal.
    path(
        "staff/patients/<int:patient_id>/consent/tablet/",
        views.staff_consent_tablet,
        name="staff_consent_tablet",
    ),
    path(
        "staff/patients/<int:patient_id>/consent/tablet/done/",
        views.staff_consent_tablet_done,
        name="staff_consent_tablet_done",
    ),
    path(
        "staff/patients/<int:patient_id>/consent/<int:signature_id>/pdf/",
        views.staff_consent_pdf,
        name="staff_consent_pdf",
    ),
    path(
        "staff/patients/<int:patient_id>/consent/withdraw/",
        views.staff_consent_withdraw,
        name="staff_consent_withdraw",
    ),
    # The link in the care team's email about a withdrawal: opens the patient, if allowed.
    path(
        "staff/consent/withdrawals/<int:signature_id>/",
        views.staff_consent_withdrawal,
        name="staff_consent_withdrawal",
    ),
    # The owner writes and publishes consent texts; other staff may read them.
    path("staff/consent/", views.consent_admin, name="consent_admin"),
    path("staff/consent/new/", views.consent_document_new, name="consent_document_new"),
    path(
        "staff/consent/<int:document_id>/draft/",
        views.consent_draft_edit,
        name="consent_draft_edit",
    ),
    path(
        "staff/consent/versions/<int:version_id>/",
        views.consent_version_detail,
        name="consent_version_detail",
    ),
    path(
        "staff/consent/versions/<int:version_id>/publish/",
        views.consent_publish_page,
        name="consent_publish",
    ),
]
