"""The /api/v1 endpoints of the health app."""

from ninja import Router

router = Router(tags=["health"])
