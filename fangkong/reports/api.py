"""The /api/v1 endpoints of the reports app."""

from ninja import Router

router = Router(tags=["reports"])
