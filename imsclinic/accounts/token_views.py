"""Pages where a staff member manages their personal API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from imsclinic.accounts import tokens
from imsclinic.accounts.errors import TokenRefused
from imsclinic.accounts.models import ApiToken
from imsclinic.core.form_errors import refusal_to_form
from imsclinic.core.http import SignedInRequest


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What will use the token, e.g. “Monthly report script”."),
    )


def _require_token_permission(request: HttpRequest) -> None:
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
                    user=request.user,  # type: ignore[arg-type]
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
        "tokens": tokens.api_tokens_for_user(request.user),  # type: ignore[arg-type]
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
