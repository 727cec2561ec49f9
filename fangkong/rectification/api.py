"""/api/v1/rectification endpoints: problems and their steps, supervision, bulletins."""

from ninja import Router

router = Router(tags=["rectification"])


# ------------------------------------------------------------------ weekly bulletin (r16b)
from .bulletin_api import router as bulletin_router  # noqa: E402

router.add_router("", bulletin_router)
