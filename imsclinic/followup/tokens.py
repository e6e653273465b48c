"""The check-in link's token: signed, expiring, good for one check-in's form and nothing else.

`django.core.signing.TimestampSigner` with a salt of its own, so a token signed for another
purpose (a password reset, another app's link) never validates here. The payload is the
check-in's id; the signature carries the time of signing, and a token older than
`LINK_VALID_DAYS` is refused (410).
"""

from __future__ import annotations

import datetime as dt
import enum

from django.core import signing

SALT = "imsclinic.followup.checkin"
# A week: long enough to answer late, short enough that an old email is not a standing key.
LINK_VALID_DAYS = 7


class TokenProblem(enum.Enum):
    BAD = "bad"  # tampered, or signed for something else
    EXPIRED = "expired"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def checkin_token(checkin_id: int) -> str:
    """Return the signed token for a check-in's link."""
    return _signer().sign(str(checkin_id))


def checkin_id_from(token: str) -> int | TokenProblem:
    """Return the check-in id a token carries, or why it is refused."""
    try:
        value = _signer().unsign(token, max_age=dt.timedelta(days=LINK_VALID_DAYS))
    except signing.SignatureExpired:
        return TokenProblem.EXPIRED
    except signing.BadSignature:
        return TokenProblem.BAD
    return int(value) if value.isdigit() else TokenProblem.BAD
