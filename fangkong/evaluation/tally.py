"""Month tallies of cases and ratings (``MonthTally``): added to in the transaction of each
write, rebuilt from the rows after a bulk load, read by the figures for whole months; and
each bad review's first callback time, which the figures read instead of the callbacks."""

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from fangkong.core.calendar import LOCAL_TZ

from .models import Case, MonthTally, Rating

LEVELS = (1, 2, 3, 4, 5)


def month_of(at: dt.datetime) -> dt.date:
    return at.astimezone(LOCAL_TZ).date().replace(day=1)


def _key(row: Any, month: dt.date) -> dict[str, Any]:
    return {
        "month": month,
        "unit_path": row.unit_path,
        "window_id": row.window_id or 0,
        "staff_id": row.staff_id or 0,
        "service_id": row.service_id,
    }


def add(key: dict[str, Any], **changes: int) -> None:
    """Add ``changes`` (field → amount) to the tally of ``key``, creating it if new."""
    update = {name: F(name) + amount for name, amount in changes.items()}
    if MonthTally.objects.filter(**key).update(**update):
        return
    try:
        with transaction.atomic():
            MonthTally.objects.create(**key, **changes)
    except IntegrityError:  # another request created it meanwhile
        MonthTally.objects.filter(**key).update(**update)


def case_added(case: Case) -> None:
    add(_key(case, month_of(case.created_at)), cases=1)


def rating_added(rating: Rating) -> None:
    add(_key(rating, month_of(rating.rated_at)), ratings=1, **{f"l{rating.level}": 1})


def rating_excluded(rating: Rating, case: Case) -> None:
    """An upheld appeal: the rating leaves the counts, the case leaves the 主动评价率."""
    add(_key(rating, month_of(rating.rated_at)), ratings=-1, upheld=1, **{f"l{rating.level}": -1})
    add(_key(case, month_of(case.created_at)), cases_excluded=1)


def rebuild() -> int:
    """Count every month again from the rows (after a bulk load: the demo, a benchmark)."""
    from django.db.models.functions import TruncMonth

    tallies: dict[tuple[Any, ...], MonthTally] = {}

    def at(month: Any, path: str, window: Any, staff: Any, service: Any) -> MonthTally:
        month = month.astimezone(LOCAL_TZ).date() if isinstance(month, dt.datetime) else month
        key = (month, path, window or 0, staff or 0, service)
        if key not in tallies:
            tallies[key] = MonthTally(
                month=key[0], unit_path=path, window_id=key[2], staff_id=key[3], service_id=service
            )
        return tallies[key]

    keys = ("unit_path", "window_id", "staff_id", "service_id")
    cases = Case.objects.annotate(m=TruncMonth("created_at", tzinfo=LOCAL_TZ)).values("m", *keys)
    for row in cases.annotate(n=Count("pk")).order_by():
        at(row["m"], *[row[k] for k in keys]).cases = row["n"]
    excluded = (
        Rating.objects.filter(excluded=True)
        .annotate(m=TruncMonth("case__created_at", tzinfo=LOCAL_TZ))
        .values("m", "case__unit_path", "case__window_id", "case__staff_id", "case__service_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in excluded:
        tally = at(
            row["m"],
            row["case__unit_path"],
            row["case__window_id"],
            row["case__staff_id"],
            row["case__service_id"],
        )
        tally.cases_excluded = row["n"]
    counted = Q(excluded=False)
    ratings = (
        Rating.objects.annotate(m=TruncMonth("rated_at", tzinfo=LOCAL_TZ))
        .values("m", *keys)
        .annotate(
            n=Count("pk", filter=counted),
            up=Count("pk", filter=Q(excluded=True)),
            **{f"l{v}": Count("pk", filter=counted & Q(level=v)) for v in LEVELS},
        )
        .order_by()
    )
    for row in ratings:
        tally = at(row["m"], *[row[k] for k in keys])
        tally.ratings, tally.upheld = row["n"], row["up"]
        for v in LEVELS:
            setattr(tally, f"l{v}", row[f"l{v}"])
    with transaction.atomic():
        MonthTally.objects.all().delete()
        MonthTally.objects.bulk_create(tallies.values(), batch_size=2000)
        first_callbacks_rebuild()
    return len(tallies)


def first_callbacks_rebuild() -> None:
    """Each bad review's first callback time, from its callbacks (after a bulk load)."""
    from django.db.models import Exists, Min, OuterRef, Subquery

    from .models import BadReview, Callback

    first = (
        Callback.objects.filter(bad_review=OuterRef("pk"))
        .values("bad_review")
        .annotate(at=Min("at"))
        .values("at")
    )
    BadReview.objects.update(first_callback_at=Subquery(first))
    rating = Rating.objects.filter(pk=OuterRef("rating_id"))
    BadReview.objects.update(
        rated_at=Subquery(rating.values("rated_at")),
        unit_path=Subquery(rating.values("unit_path")),
        window_id=Subquery(rating.values("window_id")),
        staff_id=Subquery(rating.values("staff_id")),
        service_id=Subquery(rating.values("service_id")),
        counted=~Exists(Rating.objects.filter(pk=OuterRef("rating_id"), excluded=True)),
    )
