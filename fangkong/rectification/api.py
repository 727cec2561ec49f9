"""/api/v1/rectification endpoints: problems and their steps, supervision, bulletins."""

from ninja import Router

router = Router(tags=["rectification"])
