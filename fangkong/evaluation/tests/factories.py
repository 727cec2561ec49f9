"""Evaluation objects for the API's permission matrix: a service offered at the side's unit
and a bad review there, at the step an endpoint needs (built inside the request's
rolled-back savepoint)."""

from typing import Any

from fangkong.evaluation import services
from fangkong.evaluation.models import BadReview, Level, Offering, Service


def matrix_service(side: Any) -> Service:
    service, _created = Service.objects.get_or_create(
        code=f"M-{side.code}", defaults={"name": "矩阵事项", "category": "测试"}
    )
    Offering.objects.get_or_create(
        service=service, unit=side.unit, defaults={"unit_path": side.unit.path}
    )
    return service


def matrix_bad_review(side: Any, step: str = "new") -> int:
    """A bad review at the side's unit: new, called back ("handling") or appealed."""
    case = services.case_register(actor=None, service=matrix_service(side), unit=side.unit)
    rating = services.rate(case=case, new=services.NewRating(level=Level.VERY_DISSATISFIED))
    bad = BadReview.objects.get(rating=rating)
    if step in ("handling", "appealed"):
        services.callback_record(
            actor=None, bad_review=bad, how="phone", reached=True, said="已联系"
        )
    if step == "appealed":
        services.outcome_set(actor=None, bad_review=bad, outcome="appeal", text="误评")
    return bad.pk
