"""The /api/v1 endpoints of the notify app."""

from ninja import Router

router = Router(tags=["notify"])
