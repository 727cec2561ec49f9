"""The audit log as a reader sees it: field names, values and times in their language.

Rows store what changed as JSON (field name → value, times in UTC ISO form); the page
shows the model's verbose names, choice labels, 是/否 and Asia/Shanghai times.
"""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from fangkong.accounts.actors import Viewer
from fangkong.accounts.roles import Perm
from fangkong.accounts.selectors import user_has_perm_anywhere
from fangkong.core.models import AuditLog
from fangkong.core.schedules import job_name

# Search keys, tree bookkeeping and row ids: stored for the record, meaningless to a reader.
HIDDEN = {
    *("name_pinyin", "name_initials", "path", "depth", "unit_path", "scope_path"),
    *("id", "ids", "entry", "created_at", "updated_at"),
    *("schedule", "func"),  # a job's function path: the row already names the job
}


# Keys that are no model field: what an export or a bulk action records.
KEY_LABELS = {
    "rows": gettext_lazy("Rows"),
    "format": gettext_lazy("Format"),
    "filters": gettext_lazy("Filters"),
    "unmasked": gettext_lazy("Full numbers shown"),
}
_LIST_SEEN = re.compile(r"^list \((\d+)\)$")  # orgs: a page of people with full numbers

# Apps above accounts name their own stored codes (a ledger kind's states): {(type, key): f}.
_VALUE_LABELS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def register_value_label(object_type: str, key: str, label: Callable[[Any], Any]) -> None:
    """Let an app say how a stored code reads; ``label`` returns None for codes it lacks."""
    _VALUE_LABELS[(object_type, key)] = label


# How an app names its objects in the log when the stored text is a code or in one
# language: {object type: f(entry) → text or None to keep the stored text}.
_OBJECT_TEXTS: dict[str, Callable[[Any], str | None]] = {}


def register_object_text(object_type: str, text: Callable[[Any], str | None]) -> None:
    _OBJECT_TEXTS[object_type] = text


# Rows about something that is no model (a sweep, a queued job): {object type: label}.
_TYPE_LABELS: dict[str, Any] = {"django_q.task": gettext_lazy("Background job")}


def register_type_label(object_type: str, label: Any) -> None:
    _TYPE_LABELS[object_type] = label


# Objects with a page of their own: {object type: (URL name taking the id, permissions of
# which the reader needs one somewhere)}. The page still answers 404 outside the scope.
_OBJECT_PAGES: dict[str, tuple[str, tuple[Perm, ...]]] = {}


def register_object_page(object_type: str, url_name: str, *perms: Perm) -> None:
    _OBJECT_PAGES[object_type] = (url_name, perms)


def object_pages_for(user: Viewer) -> dict[str, str]:
    """Object type → URL name of the pages this reader may open at all."""
    return {
        object_type: url_name
        for object_type, (url_name, perms) in _OBJECT_PAGES.items()
        if any(user_has_perm_anywhere(user, perm) for perm in perms)
    }


def object_link(entry: Any, pages: dict[str, str]) -> str:
    """The URL of the row's object, or "" (no page, deleted, or an id that is no number)."""
    url_name = pages.get(entry.object_type)
    if not url_name or entry.action == AuditLog.Action.DELETE:
        return ""
    if not entry.object_id.isdigit() or len(entry.object_id) > 18:
        return ""
    try:
        return reverse(url_name, args=[int(entry.object_id)])
    except NoReverseMatch:
        return ""


def object_type_choices(object_types: Any) -> list[tuple[str, str]]:
    """The filter's choices: each stored object type with its label, in label order."""
    return sorted(((t, object_type_label(t)) for t in object_types if t), key=lambda c: c[1])


def object_text(entry: Any) -> str:
    """The object's name as the reader's language says it (the stored repr otherwise)."""
    render = _OBJECT_TEXTS.get(entry.object_type)
    text = render(entry) if render is not None else None
    return text if text is not None else _core_text(entry)


def _core_text(entry: Any) -> str:
    """Texts stored in English: "<name> export (N)", "run now: <path>" and "list (N)"."""
    after = entry.after if isinstance(entry.after, dict) else {}
    if entry.action == AuditLog.Action.EXPORT and isinstance(after.get("rows"), int):
        count = after["rows"]
        return ngettext("%(count)d row", "%(count)d rows", count) % {"count": count}
    if entry.object_type == "django_q.task" and isinstance(after.get("func"), str):
        return job_name(after["func"])  # stored as "run now: <function path>"
    seen = _LIST_SEEN.match(entry.object_repr)
    if seen:
        count = int(seen.group(1))
        return ngettext("A list of %(count)d person", "A list of %(count)d people", count) % {
            "count": count
        }
    return entry.object_repr


def model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(object_type: str) -> str:
    """ "orgs.person" → the model's verbose name (人员); an unknown type stays as stored."""
    if object_type in _TYPE_LABELS:
        return str(_TYPE_LABELS[object_type])
    model = model_of(object_type)
    return str(model._meta.verbose_name) if model else object_type


def _field(model: type[models.Model] | None, key: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _local_time(value: str) -> str | None:
    """An ISO date-time (as JSON stores it) in the local time zone, else None."""
    if len(value) < 16 or value[4:5] != "-" or ("T" not in value and " " not in value[10:11]):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def readable_value(value: Any, field: models.Field | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field is not None and field.choices:
        labels = {str(key): label for key, label in field.flatchoices}
        if str(value) in labels:
            return str(labels[str(value)])
    if isinstance(value, list):
        return "、".join(readable_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(f"{k}：{readable_value(v)}" for k, v in value.items())
    if isinstance(value, str):
        return _local_time(value) or value
    return str(value)


def _plain(value: Any) -> str:
    return "" if value is None else readable_value(value)


def audit_changes(object_type: str, before: Any, after: Any) -> list[dict[str, str]]:
    """The fields a row touched, each with its label and readable old and new values.

    An update lists only the fields that changed; a creation or deletion lists them all.
    """
    model = model_of(object_type)
    if not isinstance(before, dict | None) or not isinstance(after, dict | None):
        # A list or a sentence (an export's filters, a bulk action): shown as one value.
        return [{"label": "", "before": _plain(before), "after": _plain(after)}]
    old = before or {}
    new = after or {}
    rows = []
    for key in dict.fromkeys([*old, *new]):
        if key in HIDDEN:
            continue
        if key in old and key in new and old[key] == new[key]:
            continue
        field = _field(model, key)
        labeller = _VALUE_LABELS.get((object_type, key))
        row = {
            "label": str(field.verbose_name if field is not None else KEY_LABELS.get(key, key)),
            "before": _shown(old, key, field, labeller),
            "after": _shown(new, key, field, labeller),
        }
        if key in old and key in new and row["before"] == row["after"]:
            continue  # a change finer than what the page shows (microseconds)
        rows.append(row)
    return rows


def _shown(
    values: dict[str, Any],
    key: str,
    field: models.Field | None,
    labeller: Callable[[Any], Any] | None,
) -> str:
    if key not in values:
        return ""
    label = labeller(values[key]) if labeller is not None else None
    return str(label) if label is not None else readable_value(values[key], field)
