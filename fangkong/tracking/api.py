"""/api/v1/tracking endpoints: manual cards, close-out, close contacts and case trees."""

from ninja import Router

router = Router(tags=["tracking"])
