"""Account pages: where to go after sign-in, account settings, staff invitations, API tokens."""

from __future__ import annotations

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.internal.flows.reauthentication import reauthenticate_by_password
from allauth.account.models import Login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from imsclinic.accounts import tokens
from imsclinic.accounts.errors import InvitationRefused, InvitationUnusable, TokenRefused
from imsclinic.accounts.forms import AcceptInvitationForm, ApiTokenForm, StaffInviteForm
from imsclinic.accounts.middleware import user_has_mfa
from imsclinic.accounts.models import ApiToken, StaffInvitation
from imsclinic.accounts.services import (
    invitation_for_token,
    staff_invitation_accept,
    staff_invitation_revoke,
    staff_invite,
)
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest


@login_required
def after_login(request: SignedInRequest) -> HttpResponse:
    """Send staff to the patient list and patients to their portal."""
    if request.user.is_clinic_staff:
        return redirect("patient_list")
    return redirect("portal_home")


@login_required
def account_settings(request: SignedInRequest) -> HttpResponse:
    """Show who is signed in and where to change password, email and two-factor settings."""
    user = request.user
    context = {
        "has_totp": user_has_mfa(user),
        "is_staff_member": user.is_clinic_staff,
    }
    return render(request, "accounts/settings.html", context)


def _require_invite_permission(request: HttpRequest) -> None:
    if not request.user.has_perm("accounts.invite_staff"):
        raise PermissionDenied


@login_required
def invite_staff(request: SignedInRequest) -> HttpResponse:
    """Let the owner invite staff by email and see every invitation sent."""
    _require_invite_permission(request)
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = staff_invite(
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                practitioner=form.cleaned_data["practitioner"],
                actor=request.user,
                request=request,
            )
        except InvitationRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. The link works until %(date)s.")
                % {"email": invitation.email, "date": date_format(invitation.expires_at)},
            )
            return redirect("invite_staff")
    invitations = StaffInvitation.objects.select_related("invited_by", "practitioner", "user")
    return render(request, "accounts/invite_staff.html", {"form": form, "invitations": invitations})


@require_POST
@login_required
def revoke_invitation(request: SignedInRequest, invitation_id: int) -> HttpResponse:
    """Withdraw an invitation that has not been accepted yet."""
    _require_invite_permission(request)
    invitation = get_object_or_404(StaffInvitation, pk=invitation_id)
    if staff_invitation_revoke(invitation=invitation, actor=request.user, request=request):
        messages.success(
            request, _("The invitation to %(email)s was revoked.") % {"email": invitation.email}
        )
    else:
        messages.info(request, _("That invitation was already used or revoked."))
    return redirect("invite_staff")


def _invitation_gone(request: HttpRequest, *, status: int) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", status=status)


@never_cache
@sensitive_post_parameters("password1", "password2")
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Let an invited staff member choose a password, then sign them in to set up MFA."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return _invitation_gone(request, status=404)
    if not invitation.is_open:
        return _invitation_gone(request, status=410)
    if request.user.is_authenticated:
        return render(
            request, "accounts/accept_invitation_signed_in.html", {"invitation": invitation}
        )
    form = AcceptInvitationForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_invitation_accept(
                invitation=invitation, password=form.cleaned_data["password1"], request=request
            )
        except InvitationUnusable:
            return _invitation_gone(request, status=410)
        except InvitationRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            # allauth's own password sign-in: Django's login() gives a new session id.
            response = perform_password_login(
                request,
                {"email": user.email},
                Login(user=user, email=user.email, redirect_url=reverse("mfa_activate_totp")),
            )
            # They typed the password seconds ago; allauth would ask for it again before
            # MFA setup, so count this as that confirmation.
            reauthenticate_by_password(request)
            return response
    return render(
        request, "accounts/accept_invitation.html", {"form": form, "invitation": invitation}
    )


# ---------------------------------------------------------------------------------------------
# Personal API tokens


def _require_token_permission(request: SignedInRequest) -> None:
    if not request.user.has_perm("accounts.use_api_tokens"):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: SignedInRequest) -> HttpResponse:
    _require_token_permission(request)
    new_token: str | None = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                _issued, new_token = tokens.api_token_issue(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    actor=request.user,
                    request=request,
                )
            except TokenRefused as refusal:
                refusal_to_form(form, refusal)
            else:
                # No redirect here: the raw token exists only in this response, so it is
                # shown once and never kept in the session or the database.
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": tokens.api_tokens_for_user(request.user),
        "new_token": new_token,
    }
    return render(request, "accounts/api_tokens.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: SignedInRequest, token_id: int) -> HttpResponse:
    _require_token_permission(request)
    # Only the holder's own tokens: anyone else's is "not found".
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if request.method == "POST":
        if tokens.api_token_revoke(token=token, actor=request.user, request=request):
            messages.success(
                request,
                _("Revoked the token “%(name)s”. Programs using it can no longer connect.")
                % {"name": token.name},
            )
        else:
            messages.info(request, _("That token was already revoked."))
        return redirect("api_tokens")
    return render(request, "accounts/api_token_revoke.html", {"token": token})
