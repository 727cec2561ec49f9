"""Personal data has a lifetime (PIPL art. 19, 47): a registry of what each app purges.

Each app registers, for its own models, a ``Purger``: which rows of a period of days are
due (``due``) and whether they are deleted or overwritten (``changes``). The health app
decides the periods (the days of a closed outbreak, once its retention is over) and runs
every purger over them; apps further up (passes, scans …) register theirs the same way from
their ``AppConfig.ready``, so nothing here imports upward.

Rows go a chunk at a time, each chunk in its own transaction: a purge of millions of
declarations never holds one huge transaction, and an interrupted run leaves only whole
chunks done, which the next run (it is idempotent) carries on from. With every chunk the
audit log forgets what it copied of those rows (``before``, ``after`` and the object's
name), keeping who did what and when.

The audit log itself is kept ``AUDIT_RETENTION_DAYS`` (see docs/privacy.md for why).
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import AuditLog

CHUNK = 2000
DEFAULT_AUDIT_RETENTION_DAYS = 1095  # three years; PIPL art. 56 asks at least that
MIN_AUDIT_RETENTION_DAYS = 180  # six months of network logs: Cybersecurity Law art. 21
AUDIT_KEY = "core.audit_log"
DELETE = "delete"
ANONYMISE = "anonymise"


@dataclass(frozen=True)
class Period:
    """The days whose personal data is due: ``first`` (None: from the start) to ``last``."""

    first: dt.date | None
    last: dt.date

    def days(self, name: str) -> Q:
        """Return a condition on a date field: the day falls in the period."""
        inside = Q(**{f"{name}__lte": self.last})
        return inside & Q(**{f"{name}__gte": self.first}) if self.first else inside

    def instants(self, name: str) -> Q:
        """Return a condition on a datetime field: the local day falls in the period."""
        inside = Q(**{f"{name}__lt": local_midnight(self.last + dt.timedelta(days=1))})
        if self.first:
            inside &= Q(**{f"{name}__gte": local_midnight(self.first)})
        return inside


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Purger:
    """How one app erases one kind of personal row of a period.

    ``due(period)`` returns the rows still to erase (for an anonymiser: not yet anonymised,
    so a second run finds none). Without ``changes`` the rows are deleted; with them each
    row is updated with ``changes`` (values or expressions), irreversibly. ``file_field``
    names a file field whose stored files go with the deleted rows.
    """

    key: str
    label: Any
    due: Callable[[Period], QuerySet[Any]]
    changes: dict[str, Any] = field(default_factory=dict)
    file_field: str = ""

    @property
    def action(self) -> str:
        return ANONYMISE if self.changes else DELETE

    def count(self, period: Period) -> int:
        return self.due(period).count()

    def run(self, period: Period) -> int:
        """Erase the period's due rows a chunk at a time; return how many."""
        rows = self.due(period)
        done, last = 0, None
        while True:
            with transaction.atomic():
                ids = list(rows.order_by("pk").values_list("pk", flat=True)[:CHUNK])
                if not ids:
                    return done
                if ids == last:  # the changes do not take rows out of ``due``: stop
                    raise RuntimeError(f"purger {self.key}: rows stay due after erasing")
                self._erase(rows.model, ids)
                forget_in_audit(rows.model, ids)
            done, last = done + len(ids), ids

    def _erase(self, model: type[models.Model], ids: list[Any]) -> None:
        chunk = model._default_manager.filter(pk__in=ids)
        if self.changes:
            chunk.update(**self.changes)
            return
        names = (
            [n for n in chunk.values_list(self.file_field, flat=True) if n]
            if self.file_field
            else []
        )
        chunk.delete()
        if names:
            transaction.on_commit(lambda: _delete_files(names))


_PURGERS: dict[str, Purger] = {}


def register(purger: Purger) -> None:
    """Add (or replace, by key) an app's purger; call it from ``AppConfig.ready``."""
    _PURGERS[purger.key] = purger


def purgers() -> list[Purger]:
    """Return the registered purgers in registration order (the app order)."""
    return list(_PURGERS.values())


def forget_in_audit(model: type[models.Model], ids: Iterable[Any]) -> int:
    """Clear what audit rows copied of these objects; who acted, when and how stays."""
    return AuditLog.objects.filter(
        object_type=model._meta.label_lower, object_id__in=[str(pk) for pk in ids]
    ).update(before=None, after=None, object_repr="")


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


# ------------------------------------------------------------------ the audit log


def audit_retention_days() -> int:
    """The audit log's retention; below six months (Cybersecurity Law art. 21) is refused."""
    days = int(getattr(settings, "AUDIT_RETENTION_DAYS", DEFAULT_AUDIT_RETENTION_DAYS))
    if days < MIN_AUDIT_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS is {days}; network logs are kept at least "
            f"{MIN_AUDIT_RETENTION_DAYS} days (Cybersecurity Law art. 21)."
        )
    return days


def expired_audit_rows(now: dt.datetime | None = None) -> QuerySet[AuditLog]:
    """Return the audit rows older than the audit log's retention period."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=audit_retention_days())
    return AuditLog.objects.filter(at__lt=cutoff)


def audit_log_purge(now: dt.datetime | None = None) -> int:
    """Delete the expired audit rows a chunk at a time; return how many."""
    rows = expired_audit_rows(now)
    done = 0
    while True:
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return done
            AuditLog.objects.filter(pk__in=ids).delete()
        done += len(ids)
