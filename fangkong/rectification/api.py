"""/api/v1/rectification endpoints: problems and their steps, supervision, bulletins."""

from ninja import Router

router = Router(tags=["rectification"])


# supervision (supervision_api.py): orders listed, issued and ended
from .supervision_api import router as supervision_router  # noqa: E402

router.add_router("", supervision_router)
