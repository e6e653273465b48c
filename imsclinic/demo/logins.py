"""The demo clinic's sign-in details, which `make run` prints and the browser tests use."""

from __future__ import annotations

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

DEMO_PASSWORD = "ims-demo-password"
# A fixed secret so one authenticator-app entry serves every demo staff login.
DEMO_TOTP_SECRET = "NFWXGY3MNFXGSYZNMRSW23ZNGJTGCIJB"
DEMO_PATIENT_EMAIL = "patient@example.com"


def current_code(secret: str, at: float | None = None) -> str:
    """Return the six-digit code an authenticator app shows for this secret now."""
    from allauth.mfa import app_settings

    counter = int(at if at is not None else time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
