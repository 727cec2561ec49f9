"""Every write of service evaluation: windows, staff and badge codes, cases, the one rating
of a case, and a bad review's life (callback, outcome, appeal, follow-up review).

Writes by staff are keyword-only and atomic and check the actor with ``require_perm``
(404 outside the scope, 403 inside it). The citizen's writes (a rating, a face-to-face
case from a badge, a follow-up review) have no actor: the signed token is the credential,
and the pages throttle them per device and address.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangkong.accounts.actors import Actor, acting_user
from fangkong.accounts.models import RoleAssignment, User
from fangkong.accounts.roles import Perm, Role
from fangkong.accounts.selectors import require_perm
from fangkong.core import calendar, links
from fangkong.core.audit import audit_record
from fangkong.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from fangkong.core.models import AuditLog
from fangkong.core.paths import ancestor_paths
from fangkong.core.text import clean_text, forbidden_character_in
from fangkong.ledger import services as ledger
from fangkong.ledger.models import Item
from fangkong.ledger.owners import owners_for, owners_for_paths
from fangkong.notify.models import Event
from fangkong.notify.services import notify
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.validators import normalize_phone
from fangkong.rectification import services as rectification
from fangkong.rectification.models import ProblemClass, Source

from . import tally
from .ledger_kind import (
    APPEALED,
    AWAITING_REVIEW,
    CALLBACK_CLOCK,
    CALLBACK_PENDING,
    HANDLING,
    KIND,
    RECTIFY_CLOCK,
    RECTIFYING,
)
from .models import (
    BAD_LEVELS,
    Badge,
    BadReview,
    Callback,
    Case,
    Channel,
    Level,
    Offering,
    Outcome,
    Profile,
    Rating,
    Service,
    Staff,
    TagSet,
    Window,
)

BADGE_SALT = "fangkong.evaluation.badge"
CASE_SALT = "fangkong.evaluation.case"
FOLLOW_UP_SALT = "fangkong.evaluation.follow-up"
MAX_TEXT = 500
# Who answers for a bad review (owns its item) and who hears of it at once.
OWNER_ROLES = ((Role.SERVICE_HEAD,), (Role.UNIT_ADMIN,))
ALERT_ROLES = ((Role.SERVICE_HEAD, Role.SUPERVISOR), (Role.UNIT_ADMIN,))


def _free_text(value: Any, field_name: str, *, required: bool = False) -> str:
    text = clean_text(value)
    if required and not text:
        raise InvalidInput.at(field_name, _("This field is required."))
    if len(text) > MAX_TEXT:
        raise InvalidInput.at(field_name, _("At most %(n)d characters, please.") % {"n": MAX_TEXT})
    if forbidden_character_in(text):
        raise InvalidInput.at(field_name, _("The text contains a control character."))
    return text


def _audit(actor: Actor, action: str, obj: Any, path: str, after: Any, before: Any = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        object_repr=f"{obj._meta.model_name} #{obj.pk}",
        scope_path=path,
        before=before,
        after=after,
    )


# ------------------------------------------------------------------ tokens


def badge_token(badge: Badge) -> str:
    return links.link_token(BADGE_SALT, badge.key)


def case_token(case: Case) -> str:
    return links.link_token(CASE_SALT, case.key)


def follow_up_token(bad_review: BadReview) -> str:
    return links.link_token(FOLLOW_UP_SALT, bad_review.follow_up_key)


def badge_from_token(token: str) -> Badge:
    """The badge behind a scanned code; a forged, unknown or revoked code is not found."""
    key = links.link_key(BADGE_SALT, token)
    badge = (
        Badge.objects.select_related("unit", "window", "staff")
        .filter(key=key, revoked_at__isnull=True)
        .first()
    )
    if badge is None:
        raise NotFound()
    return badge


def case_from_token(token: str) -> Case:
    key = links.link_key(CASE_SALT, token)
    case = Case.objects.select_related("service", "unit", "window", "staff").filter(key=key)
    found = case.first()
    if found is None:
        raise NotFound()
    return found


def bad_review_from_token(token: str) -> BadReview:
    key = links.link_key(FOLLOW_UP_SALT, token)
    found = (
        BadReview.objects.select_related("rating__service", "rating__case__unit", "item")
        .filter(follow_up_key=key)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


# ------------------------------------------------------------------ windows, staff, badges


@transaction.atomic
def window_create(*, actor: Actor, unit: OrgUnit, number: str, name: str = "") -> Window:
    require_perm(actor, Perm.MANAGE_SERVICES, unit.path)
    number = _free_text(number, "number", required=True)[:16]
    if Window.objects.filter(unit=unit, number=number).exists():
        raise InvalidInput.at("number", _("This unit already has a window with that number."))
    window = Window.objects.create(
        unit=unit, unit_path=unit.path, number=number, name=_free_text(name, "name")[:64]
    )
    _audit(actor, AuditLog.Action.CREATE, window, unit.path, {"number": number})
    return window


@transaction.atomic
def staff_assign(
    *, actor: Actor, user: User, window: Window, name: str, staff_number: str
) -> Staff:
    """Make ``user`` the window's staff member (or move them to it), with their badge name."""
    require_perm(actor, Perm.MANAGE_SERVICES, window.unit_path)
    name = _free_text(name, "name", required=True)[:64]
    staff_number = _free_text(staff_number, "staff_number", required=True)[:32]
    taken = Staff.objects.filter(staff_number=staff_number).exclude(user=user).exists()
    if taken:
        raise InvalidInput.at("staff_number", _("Another staff member has this number."))
    staff, _created = Staff.objects.update_or_create(
        user=user,
        defaults={"window": window, "name": name, "staff_number": staff_number, "is_active": True},
    )
    _audit(actor, AuditLog.Action.UPDATE, staff, window.unit_path, {"window": window.pk})
    return staff


@transaction.atomic
def badge_issue(
    *,
    actor: Actor,
    unit: OrgUnit,
    window: Window | None = None,
    staff: Staff | None = None,
    channel: str = Channel.BADGE,
) -> Badge:
    """Issue a signed code for a staff member, a window or a whole centre or station."""
    if staff is not None:
        window = staff.window
    if window is not None:
        unit = window.unit
    require_perm(actor, Perm.MANAGE_SERVICES, unit.path)
    holder = (
        Badge.Holder.STAFF if staff else Badge.Holder.WINDOW if window else Badge.Holder.STATION
    )
    badge = Badge.objects.create(
        holder=holder, unit=unit, unit_path=unit.path, window=window, staff=staff, channel=channel
    )
    _audit(actor, AuditLog.Action.CREATE, badge, unit.path, {"holder": holder})
    return badge


@transaction.atomic
def badge_revoke(*, actor: Actor, badge: Badge, now: dt.datetime | None = None) -> Badge:
    """Revoke a code (a staff member left): scanning it is refused from now on."""
    require_perm(actor, Perm.MANAGE_SERVICES, badge.unit_path)
    if badge.revoked_at is None:
        badge.revoked_at = now or timezone.now()
        badge.save(update_fields=["revoked_at"])
        _audit(actor, AuditLog.Action.UPDATE, badge, badge.unit_path, {"revoked": True})
    return badge


def staff_revoke_badges(*, actor: Actor, staff: Staff) -> int:
    """A member who leaves: every code of theirs is revoked."""
    badges = list(staff.badges.filter(revoked_at__isnull=True))
    for badge in badges:
        badge_revoke(actor=actor, badge=badge)
    return len(badges)


# ------------------------------------------------------------------ cases


def _offered(service: Service, unit: OrgUnit) -> bool:
    """A service is offered at the unit or a centre above it (stations share the centre's
    catalogue unless they list their own)."""
    return Offering.objects.filter(
        service=service, unit__path__in=ancestor_paths(unit.path)
    ).exists()


def _check_service(service: Service, unit: OrgUnit) -> None:
    if not service.is_active or not _offered(service, unit):
        raise InvalidInput.at("service", _("This service is not offered here."))


@transaction.atomic
def case_register(
    *,
    actor: Actor,
    service: Service,
    unit: OrgUnit | None = None,
    window: Window | None = None,
    channel: str = Channel.KIOSK,
    person_name: str = "",
    person_phone: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Register a case (办件) at a window: its one-time rating link goes on the kiosk or
    the receipt. A window-staff member registers at their own window."""
    user = acting_user(actor)
    staff = Staff.objects.filter(user=user, is_active=True).select_related("window").first()
    if window is None and staff is not None:
        window = staff.window
    if window is not None:
        unit = OrgUnit.objects.get(pk=window.unit_id)
    if unit is None:
        raise InvalidInput.at("window", _("Choose the window."))
    require_perm(actor, Perm.REGISTER_CASES, unit.path)
    _check_service(service, unit)
    if channel not in Channel.values:
        raise InvalidInput.at("channel", _("Choose a channel from the list."))
    try:  # the rule of every phone number in the system (a roster's, a visitor's)
        phone = normalize_phone(person_phone or "")
    except ValidationError as exc:
        raise InvalidInput.at("person_phone", exc.messages[0]) from None
    case = Case.objects.create(
        service=service,
        unit=unit,
        unit_path=unit.path,
        window=window,
        staff=staff if staff and window and staff.window_id == window.pk else None,
        channel=channel,
        person_name=_free_text(person_name, "person_name")[:64],
        person_phone=phone,
        created_at=now or timezone.now(),
        created_by=user,
    )
    tally.case_added(case)
    return case


@transaction.atomic
def case_from_badge(
    *, badge: Badge, service: Service, request_id: uuid.UUID, now: dt.datetime | None = None
) -> Case:
    """A badge scanned with no case open: the person said which service was just done, and
    a face-to-face case is made. A retried request returns the same case."""
    existing = Case.objects.filter(request_id=request_id).first()
    if existing is not None:
        return existing
    _check_service(service, badge.unit)
    try:
        with transaction.atomic():
            case = Case.objects.create(
                service=service,
                unit=badge.unit,
                unit_path=badge.unit_path,
                window=badge.window,
                staff=badge.staff,
                channel=badge.channel,
                created_at=now or timezone.now(),
                request_id=request_id,
            )
            tally.case_added(case)
            return case
    except IntegrityError:  # the same request raced itself
        return Case.objects.get(request_id=request_id)


# ------------------------------------------------------------------ ratings


def current_tag_set() -> TagSet | None:
    return TagSet.objects.order_by("-version").first()


def tags_for(tag_set: TagSet | None, level: int) -> list[str]:
    if tag_set is None:
        return []
    return list(tag_set.tags.get(str(level), []))


@dataclass
class NewRating:
    level: int
    tags: Sequence[str] = ()
    text: str = ""
    photo: UploadedFile | None = None
    device: str = ""


def _check_rating(new: NewRating, tag_set: TagSet | None) -> list[str]:
    if new.level not in Level.values:
        raise InvalidInput.at("level", _("Choose one of the five levels."))
    offered = set(tags_for(tag_set, new.level))
    tags = list(dict.fromkeys(str(tag) for tag in new.tags))
    if any(tag not in offered for tag in tags):
        raise InvalidInput.at("tags", _("Choose tags from those shown."))
    return tags


@transaction.atomic
def rate(*, case: Case, new: NewRating, now: dt.datetime | None = None) -> Rating:
    """Rate a case, once. A bad rating opens its bad review in the same transaction."""
    now = now or timezone.now()
    tag_set = current_tag_set()
    tags = _check_rating(new, tag_set)
    text = _free_text(new.text, "text")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if Rating.objects.filter(case=case).exists():
        raise Conflict(_("This service has already been rated. Thank you."))
    rating = Rating.objects.create(
        case=case,
        level=new.level,
        tags=tags,
        tag_set=tag_set,
        text=text,
        photo=new.photo,
        channel=case.channel,
        unit_path=case.unit_path,
        window_id=case.window_id,
        staff_id=case.staff_id,
        service_id=case.service_id,
        rated_at=now,
        device=(new.device or "")[:64],
    )
    tally.rating_added(rating)
    if rating.level in BAD_LEVELS:
        bad_review_open(rating=rating, now=now)
    return rating


# ------------------------------------------------------------------ bad reviews


def active_profile() -> Profile:
    profile = Profile.objects.filter(is_active=True).first()
    if profile is None:  # the seed's values, should the table be emptied
        return Profile(name="default", callback_hours=24, rectify_working_days=7)
    return profile


def deadlines(profile: Profile, at: dt.datetime) -> tuple[calendar.Deadline, calendar.Deadline]:
    """(callback, rectification) deadlines of a bad review arriving at ``at``: natural hours
    for the callback; working days, counted from the next working day, for the fix."""
    callback = calendar.Deadline(at + dt.timedelta(hours=profile.callback_hours), False)
    return callback, calendar.working_deadline(at, profile.rectify_working_days)


@transaction.atomic
def profile_activate(*, actor: Actor, profile: Profile) -> Profile:
    """Put a profile in use for new bad reviews (open ones keep their clocks)."""
    require_perm(actor, Perm.MANAGE_SERVICES)
    before = active_profile().name
    Profile.objects.filter(is_active=True).exclude(pk=profile.pk).update(is_active=False)
    Profile.objects.filter(pk=profile.pk).update(is_active=True)
    profile.is_active = True
    _audit(actor, AuditLog.Action.UPDATE, profile, "", {"active": profile.name}, {"active": before})
    return profile


def _title(rating: Rating) -> str:
    service = Service.objects.get(pk=rating.service_id)
    return _("%(level)s: %(service)s") % {
        "level": Level(rating.level).label,
        "service": service.name,
    }


def bad_review_open(*, rating: Rating, now: dt.datetime) -> BadReview:
    """Open the bad review's ledger item with the profile's clocks and alert at once."""
    profile = active_profile()
    callback, rectify = deadlines(profile, now)
    case = rating.case
    unit = OrgUnit.objects.get(pk=case.unit_id)
    with translation.override(settings.LANGUAGE_CODE):
        title = _title(rating)
    bad_review = BadReview.objects.create(
        rating=rating,
        rated_at=rating.rated_at,
        unit_path=rating.unit_path,
        window_id=rating.window_id,
        staff_id=rating.staff_id,
        service_id=rating.service_id,
        profile_name=profile.name,
        callback_due_at=callback.due_at,
        rectify_due_at=rectify.due_at,
        follow_up_days=profile.follow_up_days,
    )
    item, _created = ledger.item_open(
        actor=None,
        kind=KIND,
        subject=bad_review,
        unit=unit,
        title=title,
        owners=owners_for(unit.path, OWNER_ROLES),
        open_key=f"rating:{rating.pk}",
        opened_at=now,
        clock_starts={CALLBACK_CLOCK: callback.due_at, RECTIFY_CLOCK: rectify.due_at},
    )
    bad_review.item = item
    bad_review.save(update_fields=["item"])
    transaction.on_commit(lambda: bad_review_alert(bad_review_id=bad_review.pk), robust=True)
    return bad_review


def bad_review_alert(*, bad_review_id: int) -> None:
    """Tell the centre's head and the unit's supervisors (inbox, robots, e-mail): the
    service, the window, the level, the tags, the text and the link. No personal data:
    the rating is anonymous and robots post into group chats."""
    bad_review = BadReview.objects.select_related(
        "rating__service", "rating__window", "rating__case__unit", "item"
    ).get(pk=bad_review_id)
    rating = bad_review.rating
    unit = rating.case.unit
    with translation.override(settings.LANGUAGE_CODE):
        lines = [
            _("Service: %(s)s") % {"s": rating.service.name},
            _("Window: %(w)s") % {"w": str(rating.window) if rating.window else "—"},
            _("Level: %(l)s") % {"l": Level(rating.level).label},
            _("Tags: %(t)s") % {"t": "、".join(rating.tags) or "—"},
            _("Comment: %(c)s") % {"c": rating.text or "—"},
            _("Call back by %(at)s")
            % {"at": timezone.localtime(bad_review.callback_due_at).strftime("%Y-%m-%d %H:%M")},
        ]
        subject = _("%(unit)s: bad review (%(level)s)") % {
            "unit": unit.place,
            "level": Level(rating.level).label,
        }
    recipients = owners_for_paths([unit.path], ALERT_ROLES)[unit.path]
    notify(
        event=Event.BAD_REVIEW,
        unit=unit,
        subject=subject,
        body="\n".join(lines),
        link=reverse("evaluation:review", args=[bad_review.pk]),
        to_users=recipients,
    )


def _locked(bad_review: BadReview) -> tuple[BadReview, Item]:
    bad_review = BadReview.objects.select_for_update().get(pk=bad_review.pk)
    if bad_review.item_id is None:
        raise Conflict(_("This bad review has no ledger item."))
    return bad_review, Item.objects.get(pk=bad_review.item_id)


def _require_handler(actor: Actor, item: Item) -> None:
    require_perm(actor, Perm.HANDLE_REVIEWS, item.unit_path, seen_with=Perm.VIEW_EVALUATION)


def _require_state(item: Item, *states: str) -> None:
    if not item.is_open or item.state not in states:
        raise Conflict(_("The bad review is not at the step this action needs."))


@transaction.atomic
def callback_record(
    *,
    actor: Actor,
    bad_review: BadReview,
    how: str,
    reached: bool,
    said: str = "",
    at: dt.datetime | None = None,
) -> Callback:
    """Record a callback (回访). The first one meets the callback clock; once the person was
    reached the outcome can be chosen."""
    at = at or timezone.now()
    bad_review, item = _locked(bad_review)
    _require_handler(actor, item)
    if how not in Callback.How.values:
        raise InvalidInput.at("how", _("Choose phone or visit."))
    said = _free_text(said, "said", required=reached)
    callback = Callback.objects.create(
        bad_review=bad_review, caller=acting_user(actor), at=at, how=how, reached=reached, said=said
    )
    text = (
        _("Called back (%(how)s), reached: %(said)s")
        if reached
        else _("Called back (%(how)s), not reached.")
    ) % {"how": Callback.How(how).label, "said": said}
    ledger.item_follow_up(actor=actor, item=item, text=text, at=at, data={"callback": callback.pk})
    if not bad_review.callbacks.exclude(pk=callback.pk).exists():
        ledger.item_clock_meet(item=item, key=CALLBACK_CLOCK, at=at)
        BadReview.objects.filter(pk=bad_review.pk).update(first_callback_at=at)
    if reached and item.state == CALLBACK_PENDING:
        item.refresh_from_db()
        ledger.item_transition(actor=actor, item=item, target=HANDLING, by_hand=False)
    return callback


@transaction.atomic
def outcome_set(
    *,
    actor: Actor,
    bad_review: BadReview,
    outcome: str,
    text: str,
    reply: str = "",
    now: dt.datetime | None = None,
) -> BadReview:
    """Decide what the bad review leads to (after a callback that reached the person)."""
    now = now or timezone.now()
    bad_review, item = _locked(bad_review)
    _require_handler(actor, item)
    _require_state(item, HANDLING)
    if outcome not in Outcome.values:
        raise InvalidInput.at("outcome", _("Choose an outcome from the list."))
    text = _free_text(text, "text", required=True)
    bad_review.outcome, bad_review.outcome_text, bad_review.outcome_at = outcome, text, now
    bad_review.reply = _free_text(reply, "reply") or bad_review.reply
    bad_review.save()
    if outcome == Outcome.FIXED_AT_ONCE:
        _rectified(actor, bad_review, item, now)
    elif outcome == Outcome.RECTIFY:
        _rectify_as_problem(actor, bad_review, item, text, now)
    elif outcome == Outcome.EXPLAINED:
        ledger.item_request_close(
            actor=actor, item=item, reason=_("Explained: %(t)s") % {"t": text}
        )
    else:
        ledger.item_transition(actor=actor, item=item, target=APPEALED, note=text, by_hand=False)
    return bad_review


def _rectified(actor: Actor, bad_review: BadReview, item: Item, now: dt.datetime) -> None:
    """The fix is done: the rectification clock is met and the person gets the 追评 link."""
    bad_review.rectified_at = bad_review.follow_up_sent_at = now
    bad_review.save(update_fields=["rectified_at", "follow_up_sent_at"])
    ledger.item_clock_meet(item=item, key=RECTIFY_CLOCK, at=now)
    item.refresh_from_db()
    ledger.item_transition(actor=actor, item=item, target=AWAITING_REVIEW, by_hand=False)


def _bad_review_ref(bad_review: BadReview) -> str:
    """The problem's source reference: the rating's day and service, as people name it."""
    rating = bad_review.rating
    service = rating.service.name if rating.service_id else ""
    day = f"{timezone.localtime(rating.rated_at):%Y-%m-%d}"
    with translation.override(settings.LANGUAGE_CODE):  # stored: in the site's language
        return _("Bad review of %(day)s %(service)s") % {"day": day, "service": service}


def _rectify_as_problem(
    actor: Actor, bad_review: BadReview, item: Item, measures: str, now: dt.datetime
) -> None:
    """Rectify by the deadline: a rectification problem, due with the bad review's clock;
    the bad review waits for that problem's acceptance."""
    unit = OrgUnit.objects.get(pk=item.unit_id)
    problem = rectification.problem_register(
        actor=actor,
        new=rectification.NewProblem(
            title=item.title,
            unit=unit,
            assigning_unit=unit,
            source=Source.BAD_REVIEW,
            source_ref=_bad_review_ref(bad_review),
            problem_class=ProblemClass.DEADLINE,
            description=measures,
            due_on=timezone.localtime(bad_review.rectify_due_at).date(),
            # the problem's page links back (rectification knows nothing of evaluation)
            data={"origin_url": reverse("evaluation:review", args=[bad_review.pk])},
        ),
        now=now,
    )
    bad_review.problem = problem
    bad_review.save(update_fields=["problem"])
    ledger.item_transition(actor=actor, item=item, target=RECTIFYING, note=measures, by_hand=False)


def problem_accepted(problem_item: Item) -> None:
    """A rectification problem was accepted: its bad reviews move on to the 追评."""
    reviews = BadReview.objects.filter(
        problem__item=problem_item, item__state=RECTIFYING
    ).select_related("item", "problem")
    for bad_review in reviews:
        if bad_review.item is not None:
            # rectified when the problem was accepted (a caller's ``now``, not the clock)
            at = bad_review.problem.accepted_at if bad_review.problem else None
            _rectified(None, bad_review, bad_review.item, at or timezone.now())


def _appeal_filer(item: Item) -> int | None:
    entry = item.entries.filter(data__to=APPEALED).order_by("-at", "-pk").first()
    return entry.author_id if entry else None


def is_service_head(user: User | None, path: str) -> bool:
    """Is ``user`` a service head at ``path`` or above (a head decides no appeal there)?"""
    if user is None:
        return False
    return RoleAssignment.objects.filter(
        user=user, role=Role.SERVICE_HEAD, unit__path__in=ancestor_paths(path)
    ).exists()


@transaction.atomic
def appeal_decide(
    *, actor: Actor, bad_review: BadReview, upheld: bool, note: str, now: dt.datetime | None = None
) -> BadReview:
    """Decide an appeal (申诉), by a reviewer other than the head and the filer. Upheld: the
    rating leaves the figures (kept and marked) and the item closes; else back to handling."""
    now = now or timezone.now()
    bad_review, item = _locked(bad_review)
    require_perm(actor, Perm.DECIDE_APPEALS, item.unit_path, seen_with=Perm.VIEW_EVALUATION)
    _require_state(item, APPEALED)
    user = acting_user(actor)
    if user is not None and (
        user.pk == _appeal_filer(item) or is_service_head(user, item.unit_path)
    ):
        raise PermissionDenied(_("An appeal is decided by someone other than the head."))
    note = _free_text(note, "note", required=True)
    bad_review.appeal_upheld = upheld
    bad_review.appeal_decided_by = user
    bad_review.appeal_note = note
    bad_review.save(update_fields=["appeal_upheld", "appeal_decided_by", "appeal_note"])
    if upheld:
        Rating.objects.filter(pk=bad_review.rating_id).update(excluded=True)
        BadReview.objects.filter(pk=bad_review.pk).update(counted=False)
        rating = Rating.objects.select_related("case").get(pk=bad_review.rating_id)
        tally.rating_excluded(rating, rating.case)
        ledger.item_request_close(
            actor=actor, item=item, reason=_("Appeal upheld: %(n)s") % {"n": note}
        )
    else:
        bad_review.outcome = ""
        bad_review.save(update_fields=["outcome"])
        ledger.item_transition(actor=actor, item=item, target=HANDLING, note=note, by_hand=False)
    return bad_review


@transaction.atomic
def follow_up_review(
    *, bad_review: BadReview, level: int, text: str = "", now: dt.datetime | None = None
) -> BadReview:
    """The person's 追评 after the fix, once; it closes the bad review out (销号)."""
    now = now or timezone.now()
    bad_review, item = _locked(bad_review)
    if bad_review.follow_up_at is not None:
        raise Conflict(_("You have already given your follow-up review. Thank you."))
    if item.state != AWAITING_REVIEW or not item.is_open:
        raise Conflict(_("This bad review is not waiting for a follow-up review."))
    if level not in Level.values:
        raise InvalidInput.at("level", _("Choose one of the five levels."))
    bad_review.follow_up_level = level
    bad_review.follow_up_text = _free_text(text, "text")
    bad_review.follow_up_at = now
    bad_review.save(update_fields=["follow_up_level", "follow_up_text", "follow_up_at"])
    reason = _("Follow-up review: %(level)s") % {"level": Level(level).label}
    ledger.item_request_close(actor=None, item=item, reason=reason)
    return bad_review


def follow_ups_expire(*, now: dt.datetime | None = None) -> int:
    """Close the bad reviews whose 追评 did not come within their wait, noting it."""
    now = now or timezone.now()
    waiting = BadReview.objects.filter(
        item__state=AWAITING_REVIEW, item__is_open=True, follow_up_at__isnull=True
    ).select_related("item")
    closed = 0
    for bad_review in waiting:
        sent = bad_review.follow_up_sent_at or bad_review.outcome_at or now
        if now < sent + dt.timedelta(days=bad_review.follow_up_days):
            continue
        with translation.override(settings.LANGUAGE_CODE):
            reason = _("No follow-up review within %(n)d days.") % {"n": bad_review.follow_up_days}
        if bad_review.item is not None:
            ledger.item_request_close(actor=None, item=bad_review.item, reason=reason)
            closed += 1
    return closed
