"""The /api/v1 router: each app's endpoints, one auth, one error body."""

import logging
from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from fangkong.accounts.models import User
from fangkong.accounts.selectors import role_rows_for
from fangkong.accounts.services import api_token_authenticate
from fangkong.checkpoints.api import router as checkpoints_router
from fangkong.core.errors import ApplicationError, Busy, database_busy, validation_detail
from fangkong.core.guard import BadRequest
from fangkong.evaluation.api import router as evaluation_router
from fangkong.health.api import router as health_router
from fangkong.ledger.api import router as ledger_router
from fangkong.notify.api import router as notify_router
from fangkong.orgs.api import router as orgs_router
from fangkong.passes.api import router as passes_router
from fangkong.quarantine.api import router as quarantine_router
from fangkong.rectification.api import router as rectification_router
from fangkong.reports.api import router as reports_router
from fangkong.tracking.api import router as tracking_router
from fangkong.travel.api import router as travel_router


class TokenAuth(HttpBearer):
    """Authorization: Bearer fk_… — a device or integration token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = api_token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


logger = logging.getLogger(__name__)

# Every operation may answer these with the one error body (the handlers below).
ERROR_STATUSES = {
    400: "Malformed request (bad JSON, control characters)",
    401: "Not logged in and no valid API token",
    403: "Not permitted in this scope",
    404: "Not found, or outside the caller's scope",
    409: "Conflicts with the current state, or an identifier reused for other data",
    413: "Request body too large",
    422: "Some fields are not valid",
    429: "Too many requests; see Retry-After",
    503: "The database was busy and the write was undone; send it again after Retry-After",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string", "description": "In the request's language"},
        "detail": {"description": "Field problems, row problems or null"},
    },
    "required": ["code", "message", "detail"],
}


class FangkongAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document also describes the error answers."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for methods in schema["paths"].values():
            for operation in methods.values():
                _document_errors(operation["responses"])
        return schema


def _document_errors(responses: dict[Any, Any]) -> None:
    for status, description in ERROR_STATUSES.items():
        responses.setdefault(
            status,
            {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        )


api = FangkongAPI(
    title="fangkong API",
    version="1",
    description="防控 fangkong — org tree, people, imports. Errors: {code, message, detail}.",
    auth=[TokenAuth(), TokenHeaderAuth(), django_auth],
    urls_namespace="api",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, detail: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail}, status=status
    )


@api.exception_handler(ApplicationError)
def on_application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    body = exc.as_body()
    return error_response(request, exc.status, body["code"], body["message"], body["detail"])


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(request, 404, "not_found", _("Not found."))


_LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie", "payload"}


def _field_name(location: list[Any]) -> str:
    """Turn pydantic's ("body", "payload", "name") into "name"."""
    parts = [str(part) for part in location]
    while parts and parts[0] in _LOCATIONS:
        parts.pop(0)
    return ".".join(parts)


@api.exception_handler(NinjaValidationError)
def on_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {"field": _field_name(error.get("loc", [])), "message": error.get("msg", "")}
        for error in exc.errors
    ]
    return error_response(request, 422, "invalid", _("Some fields are not valid."), detail)


@api.exception_handler(DjangoValidationError)
def on_model_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return error_response(
        request, 422, "invalid", _("Some fields are not valid."), validation_detail(exc)
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(request, 401, "unauthenticated", _("Log in or send a valid API token."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    messages = {405: _("Method not allowed."), 403: _("You do not have permission to do this.")}
    return error_response(
        request, exc.status_code, "http_error", str(messages.get(exc.status_code, exc))
    )


@api.exception_handler(RawPostDataException)
def on_form_for_json(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A form (or an empty multipart POST) sent to an endpoint that reads a JSON body: the
    input guard has read the form already, so the body cannot be read again."""
    return on_application_error(
        request, BadRequest(_("The request body must be a JSON object, {…}."))
    )


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """Log the failure and answer with the common body; nothing internal leaks out. A
    database that was only busy answers 503 with Retry-After, as the pages do."""
    if database_busy(exc):
        busy = Busy()
        response = on_application_error(request, busy)
        response["Retry-After"] = str(busy.wait)
        return response
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response(
        request, 500, "server_error", _("Something went wrong on our side; please try again later.")
    )


class RoleOut(Schema):
    role: str
    unit_path: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    is_superuser: bool
    roles: list[RoleOut]


@api.get("/me", response=MeOut, tags=["accounts"])
def me(request: HttpRequest) -> Any:
    """Who the caller is and which roles cover which subtrees."""
    user = cast(User, request.user)  # authenticated: the API's auth ran
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "is_superuser": user.is_superuser,
        "roles": [{"role": role, "unit_path": path} for role, path in role_rows_for(user)],
    }


class PingOut(Schema):
    ok: bool


@api.post("/ping", response=PingOut, tags=["accounts"])
def ping(request: HttpRequest) -> Any:
    """Answer at once: lets a phone check its token and network before sending a queue."""
    return {"ok": True}


api.add_router("/", orgs_router)
api.add_router("/", health_router)
api.add_router("/", reports_router)
api.add_router("/", notify_router)
api.add_router("/", tracking_router)
api.add_router("/", ledger_router)
api.add_router("/", quarantine_router)
api.add_router("/", travel_router)
api.add_router("/", checkpoints_router)
api.add_router("/", passes_router)
api.add_router("/", rectification_router)
api.add_router("/", evaluation_router)
