"""Screening, intake and consent for one patient: /api/v1/patients/ID/..."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["safety"])
