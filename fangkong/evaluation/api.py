"""/api/v1/evaluation endpoints: catalogue, cases, ratings' figures, bad reviews."""

from ninja import Router

router = Router(tags=["evaluation"])
