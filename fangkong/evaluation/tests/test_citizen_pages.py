"""The citizen's pages (rating, badge scan, kiosk, follow-up review) and the window staff's
case registration, through the Django test client."""

import io
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from fangkong.evaluation import services
from fangkong.evaluation.models import Badge, BadReview, Case, Channel, Level, Rating, Service
from fangkong.evaluation.public_views import DEVICE_COOKIE

from .helpers import at, build_centre, travel

pytestmark = pytest.mark.django_db


@pytest.fixture
def c(org):
    return build_centre(org)


def a_case(c, **kwargs) -> Case:
    return services.case_register(actor=c.clerk, service=c.social, **kwargs)


def rate_url(case: Case) -> str:
    return reverse("evaluation_public:rate", args=[services.case_token(case)])


def badge_url(badge: Badge) -> str:
    return reverse("evaluation_public:scan", args=[services.badge_token(badge)])


def png(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ------------------------------------------------------------------ the rating page


def test_the_rating_page_shows_the_service_window_and_masked_staff_name(c, client):
    response = client.get(rate_url(a_case(c)))
    body = text_of(response)
    assert response.status_code == 200
    assert "社保参保登记" in body and "综合窗口" in body
    assert "王*红" in body and "王晓红" not in body
    assert 'name="viewport" content="width=device-width' in body
    assert body.count('name="level"') == 5  # five large choices
    assert 'name="tags_1" value="态度不好"' in body  # the current tag set's tags per level
    assert response.cookies[DEVICE_COOKIE].value


def test_a_rating_is_stored_once_and_a_second_visitor_is_told_it_was_rated(c, client):
    case = a_case(c)
    response = client.post(
        rate_url(case), {"level": "5", "tags_5": ["服务态度好", "一次办好"], "text": "很快"}
    )
    assert response.status_code == 302
    thanks = client.get(response["Location"])
    assert 'id="rate-message"' in text_of(thanks) and "rate-thanks" in text_of(thanks)
    rating = Rating.objects.get(case=case)
    assert (rating.level, rating.tags, rating.text) == (5, ["服务态度好", "一次办好"], "很快")

    other = Client()
    again = other.post(rate_url(case), {"level": "1"})
    assert again.status_code == 200
    assert "rate-already" in text_of(again) and 'name="level"' not in text_of(again)
    assert Rating.objects.get(case=case).level == 5
    assert "rate-already" in text_of(other.get(rate_url(case)))


def test_a_retried_post_from_the_same_phone_shows_the_thank_you(c, client):
    case = a_case(c)
    client.get(rate_url(case))  # the device cookie
    first = client.post(rate_url(case), {"level": "2", "tags_2": ["态度不好"]})
    retry = client.post(rate_url(case), {"level": "2", "tags_2": ["态度不好"]})
    assert first.status_code == 302
    assert retry.status_code == 200 and "rate-thanks" in text_of(retry)
    assert Rating.objects.filter(case=case).count() == 1
    assert BadReview.objects.filter(rating__case=case).count() == 1


def test_only_the_chosen_levels_tags_are_kept(c, client):
    case = a_case(c)
    client.post(rate_url(case), {"level": "1", "tags_5": ["服务态度好"], "tags_1": ["推诿扯皮"]})
    assert Rating.objects.get(case=case).tags == ["推诿扯皮"]


@pytest.mark.parametrize(
    "data",
    [
        {"level": "abc"},
        {},
        {"level": "9"},
        {"level": ""},
        {"level": "1", "tags_1": ["不存在的标签"]},
        {"level": "5", "text": "长" * 20_000},
    ],
)
def test_malformed_posts_come_back_to_the_form_with_the_field_error(c, client, data):
    case = a_case(c)
    response = client.post(rate_url(case), data)
    assert response.status_code == 422
    body = text_of(response)
    assert 'class="field-error"' in body and 'id="rate-form"' in body
    assert not Rating.objects.filter(case=case).exists()


def test_a_control_character_is_refused_before_anything_is_stored(c, client):
    """The input guard refuses it at the door, naming the field in the error body."""
    case = a_case(c)
    response = client.post(
        rate_url(case), {"level": "5", "text": "好\x00"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()["detail"]) == ["text"]
    assert client.post(rate_url(case), {"level": "5", "text": "好\x1b"}).status_code == 400
    assert not Rating.objects.filter(case=case).exists()


def test_a_photo_is_kept_and_other_files_are_refused_at_the_field(c, client, settings):
    case = a_case(c)
    wrong = SimpleUploadedFile("x.pdf", b"%PDF-1.4 not an image", content_type="image/png")
    refused = client.post(rate_url(case), {"level": "2", "photo": wrong})
    assert refused.status_code == 422
    assert re.search(r'id="photo-error">[^<]+<', text_of(refused))
    huge = SimpleUploadedFile("big.png", png() + b"\0" * (5 * 1024 * 1024), "image/png")
    too_big = client.post(rate_url(case), {"level": "2", "photo": huge})
    assert too_big.status_code == 422
    assert re.search(r'id="photo-error">[^<]+<', text_of(too_big))
    assert not Rating.objects.filter(case=case).exists()

    photo = SimpleUploadedFile("IMG_0001.png", png(), content_type="image/png")
    assert client.post(rate_url(case), {"level": "2", "photo": photo}).status_code == 302
    stored = Rating.objects.get(case=case).photo
    assert stored.name.endswith(".png") and "IMG_0001" not in stored.name


def test_a_forged_or_unknown_link_is_a_clear_404(c, client):
    case = a_case(c)
    token = services.case_token(case)
    for bad in (token[:-2] + "xx", "nothing", f"{uuid.uuid4().hex}:abc"):
        response = client.get(reverse("evaluation_public:rate", args=[bad]))
        assert response.status_code == 404
        assert "rate-invalid" in text_of(response)
        assert client.post(reverse("evaluation_public:rate", args=[bad]), {"level": "1"})
    assert not Rating.objects.exists()


def test_posts_are_limited_per_device_with_a_429_page(c, client, settings):
    settings.THROTTLE_LIMITS = {"rating_device": (2, 60), "rating_ip": (100, 60)}
    cases = [a_case(c) for _ in range(3)]
    client.get(rate_url(cases[0]))
    assert client.post(rate_url(cases[0]), {"level": "5"}).status_code == 302
    assert client.post(rate_url(cases[1]), {"level": "5"}).status_code == 302
    refused = client.post(rate_url(cases[2]), {"level": "5"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert 'class="card rate-message' in text_of(refused)
    assert not Rating.objects.filter(case=cases[2]).exists()


def test_posts_are_limited_per_address_whatever_the_cookie(c, settings):
    settings.THROTTLE_LIMITS = {"rating_ip": (2, 60)}
    cases = [a_case(c) for _ in range(3)]
    statuses = [Client().post(rate_url(case), {"level": "4"}).status_code for case in cases]
    assert statuses == [302, 302, 429]


def test_forged_tokens_are_limited_per_address(c, client, settings):
    settings.THROTTLE_LIMITS = {"rating_token_ip": (2, 60)}
    url = reverse("evaluation_public:rate", args=["forged:xyz"])
    assert [client.get(url).status_code for _ in range(3)] == [404, 404, 429]


def test_a_bad_rating_opens_a_bad_review(c, client):
    case = a_case(c)
    client.post(rate_url(case), {"level": "1", "tags_1": ["态度不好"], "text": "等了很久"})
    review = BadReview.objects.get(rating__case=case)
    assert review.item is not None and review.item.is_open


# ------------------------------------------------------------------ the badge scan


def test_a_badge_scan_asks_for_the_service_and_leads_to_the_rating_page(c, client):
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    page = client.get(badge_url(badge))
    body = text_of(page)
    assert page.status_code == 200
    assert "社保参保登记" in body and "不动产登记" in body  # the centre's and the station's
    assert "王*红" in body
    request_id = re.search(r'name="request_id" value="([0-9a-f-]+)"', body).group(1)
    data = {"request_id": request_id, "service": c.housing.pk}
    first = client.post(badge_url(badge), data)
    retry = client.post(badge_url(badge), data)
    assert first.status_code == 302 and first["Location"] == retry["Location"]
    case = Case.objects.get()
    assert (case.service, case.staff, case.channel) == (c.housing, c.staff, Channel.BADGE)
    assert first["Location"] == rate_url(case)
    assert client.post(first["Location"], {"level": "4"}).status_code == 302
    assert Rating.objects.get(case=case).channel == Channel.BADGE


def test_an_official_account_link_records_that_channel(c, client):
    badge = services.badge_issue(actor=c.head, unit=c.centre, channel=Channel.ACCOUNT)
    data = {"request_id": str(uuid.uuid4()), "service": c.social.pk}
    assert client.post(badge_url(badge), data).status_code == 302
    assert Case.objects.get().channel == Channel.ACCOUNT


def test_a_revoked_or_forged_badge_says_the_code_is_no_longer_valid(c, client):
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    url = badge_url(badge)
    services.badge_revoke(actor=c.head, badge=badge)
    for target in (url, url[:-3] + "zz/"):
        response = client.get(target)
        assert response.status_code == 404
        assert "rate-invalid" in text_of(response)
    posted = client.post(url, {"request_id": str(uuid.uuid4()), "service": c.social.pk})
    assert posted.status_code == 404
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"service": "abc", "request_id": str(uuid.uuid4())},
        {"service": "1"},
        {},
        {"service": "999999", "request_id": str(uuid.uuid4())},
    ],
)
def test_a_malformed_scan_post_asks_again(c, client, data):
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    response = client.post(badge_url(badge), data)
    assert response.status_code == 422 and 'id="scan-error"' in text_of(response)
    assert not Case.objects.exists()


def test_a_service_not_offered_at_the_badges_unit_is_refused(c, client, org):
    other = Service.objects.create(code="HJ01", name="户籍迁入", category="户籍")
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    response = client.post(badge_url(badge), {"request_id": str(uuid.uuid4()), "service": other.pk})
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_many_services_get_a_search(c, client):
    from fangkong.evaluation.models import Offering

    for n in range(12):
        service = Service.objects.create(code=f"MZ{n:02}", name=f"民政事项{n}", category="民政")
        Offering.objects.create(service=service, unit=c.centre, unit_path=c.centre.path)
    badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    page = text_of(client.get(badge_url(badge)))
    assert 'id="scan-q"' in page
    found = text_of(client.get(badge_url(badge), {"q": "社保"}))
    assert "社保参保登记" in found and "民政事项3" not in found


# ------------------------------------------------------------------ the kiosk


def test_the_kiosk_shows_the_newest_unrated_case_and_waits_again_after_rating(c, client):
    badge = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    url = reverse("evaluation_public:kiosk", args=[services.badge_token(badge)])
    poll = reverse("evaluation_public:kiosk_next", args=[services.badge_token(badge)])
    assert client.get(poll).json() == {"case": None}
    assert 'data-state="waiting"' in text_of(client.get(url))
    a_case(c, channel=Channel.ONLINE)  # not for the tablet
    case = a_case(c)
    waiting = client.get(poll).json()["case"]
    assert waiting["token"] == services.case_token(case)
    assert waiting["service"] == "社保参保登记" and "王*红" in waiting["staff"]
    page = text_of(client.get(url))
    assert 'data-state="case"' in page and page.count('name="level"') == 5
    thanks = client.post(url, {"case": services.case_token(case), "level": "4"})
    assert 'data-state="thanks"' in text_of(thanks)
    rating = Rating.objects.get(case=case)
    assert (rating.level, rating.channel) == (Level.SATISFIED, Channel.KIOSK)
    assert client.get(poll).json() == {"case": None}
    again = client.post(url, {"case": services.case_token(case), "level": "1"})
    assert 'data-state="waiting"' in text_of(again)
    assert Rating.objects.get(case=case).level == Level.SATISFIED


def test_a_staff_badge_is_no_kiosk_and_an_old_case_does_not_show(c, client):
    staff_badge = services.badge_issue(actor=c.head, unit=c.station, staff=c.staff)
    url = reverse("evaluation_public:kiosk", args=[services.badge_token(staff_badge)])
    assert client.get(url).status_code == 404
    window_badge = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    case = a_case(c, now=at("2026-11-18", "10:00"))
    poll = reverse("evaluation_public:kiosk_next", args=[services.badge_token(window_badge)])
    with travel("2026-11-18", "10:14"):
        assert client.get(poll).json()["case"]["token"] == services.case_token(case)
    with travel("2026-11-18", "10:16"):  # past the tablet's fifteen minutes: it waits again
        assert client.get(poll).json() == {"case": None}


def test_a_kiosk_post_of_another_windows_case_or_nonsense_rates_nothing(c, client):
    badge = services.badge_issue(actor=c.head, unit=c.station, window=c.window)
    url = reverse("evaluation_public:kiosk", args=[services.badge_token(badge)])
    other = services.window_create(actor=c.head, unit=c.station, number="9")
    foreign = services.case_register(actor=c.head, service=c.social, window=other)
    for data in (
        {"case": services.case_token(foreign), "level": "1"},
        {"case": "x", "level": "1"},
        {"level": "abc"},
        {},
    ):
        assert client.post(url, data).status_code == 200
    assert not Rating.objects.exists()


# ------------------------------------------------------------------ the follow-up review


def awaiting_review(c) -> BadReview:
    case = a_case(c)
    services.rate(case=case, new=services.NewRating(level=1, tags=["态度不好"]))
    review = BadReview.objects.get(rating__case=case)
    services.callback_record(actor=c.head, bad_review=review, how="phone", reached=True, said="好")
    services.outcome_set(
        actor=c.head,
        bad_review=review,
        outcome="fixed",
        text="窗口人员已批评教育",  # internal: the person sees only the public reply
        reply="已当面致歉并办结",
    )
    review.refresh_from_db()
    return review


def test_the_follow_up_review_is_given_once(c, client):
    review = awaiting_review(c)
    url = reverse("evaluation_public:follow_up", args=[services.follow_up_token(review)])
    page = text_of(client.get(url))
    assert "社保参保登记" in page and "已当面致歉并办结" in page
    assert "批评教育" not in page
    assert page.count('name="level"') == 5
    sent = client.post(url, {"level": "5", "text": "满意"})
    assert sent.status_code == 302
    assert 'id="follow-up-given"' in text_of(client.get(sent["Location"]))
    again = client.post(url, {"level": "1"})
    assert 'id="follow-up-given"' in text_of(again) and 'name="level"' not in text_of(again)
    review.refresh_from_db()
    assert (review.follow_up_level, review.follow_up_text) == (5, "满意")


def test_a_follow_up_before_the_fix_is_not_open_and_bad_posts_do_not_fail(c, client):
    case = a_case(c)
    services.rate(case=case, new=services.NewRating(level=2))
    review = BadReview.objects.get(rating__case=case)
    url = reverse("evaluation_public:follow_up", args=[services.follow_up_token(review)])
    assert 'id="follow-up-closed"' in text_of(client.get(url))
    assert client.post(url, {"level": "5"}).status_code == 200
    ready = awaiting_review(c)
    url = reverse("evaluation_public:follow_up", args=[services.follow_up_token(ready)])
    for data in ({"level": "abc"}, {}, {"level": "5", "text": "长" * 20_000}):
        assert client.post(url, data).status_code == 422
    assert client.get(url + "x").status_code in (200, 404)
    forged = reverse("evaluation_public:follow_up", args=["forged:abc"])
    assert client.get(forged).status_code == 404


# ------------------------------------------------------------------ case registration


def test_window_staff_register_a_case_in_a_few_taps_and_see_its_code(c, client):
    with travel("2026-11-18", "10:00"):
        client.force_login(c.clerk)
        page = text_of(client.get(reverse("evaluation:case_new")))
        assert "社保参保登记" in page and "不动产登记" in page
        response = client.post(
            reverse("evaluation:case_new"),
            {
                "service": c.housing.pk,
                "person_name": "李建国",
                "person_phone": "13812345678",
                "channel": "kiosk",
            },
        )
        case = Case.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(f"/cases/{case.pk}/")
        shown = text_of(client.get(response["Location"]))
        assert "data:image/svg+xml" in shown and rate_url(case) in shown
        assert "李*国" in shown and "138****5678" in shown
        assert "李建国" not in shown and "13812345678" not in shown
        receipt = text_of(client.get(reverse("evaluation:case_receipt", args=[case.pk])))
        assert "data:image/svg+xml" in receipt and "不动产登记" in receipt
        # The most used service comes first next time; today's list links the case.
        again = text_of(client.get(reverse("evaluation:case_new")))
        assert again.index("不动产登记") < again.index("社保参保登记")
        assert f'/evaluation/cases/{case.pk}/"' in again and 'class="muted unrated"' in again
    with travel("2026-11-19", "08:00"):  # the next morning's list starts empty
        assert f'/evaluation/cases/{case.pk}/"' not in text_of(
            client.get(reverse("evaluation:case_new"))
        )


def test_todays_list_shows_the_rating_once_given(c, client):
    client.force_login(c.clerk)
    case = a_case(c)
    services.rate(case=case, new=services.NewRating(level=Level.VERY_SATISFIED))
    page = text_of(client.get(reverse("evaluation:case", args=[case.pk])))
    assert 'id="case-rating"' in page and 'id="case-qr-image"' not in page


@pytest.mark.parametrize(
    "data",
    [
        {"service": "abc"},
        {},
        {"service": "1", "channel": "fax"},
        {"service": "1", "person_phone": "call me"},
        {"service": "1", "person_name": "长" * 20_000},
    ],
)
def test_bad_registrations_come_back_with_the_field_error(c, client, data):
    client.force_login(c.clerk)
    data = {**data, "service": c.social.pk if data.get("service") == "1" else data.get("service")}
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(reverse("evaluation:case_new"), data)
    assert response.status_code == 422, response.content[:300]
    assert 'id="case-error"' in text_of(response)
    assert not Case.objects.exists()


def test_case_pages_are_for_window_staff_and_their_scope(c, client, org):
    case = a_case(c)
    client.force_login(org.user("reporter", org.ent_a))
    assert client.get(reverse("evaluation:case_new")).status_code == 403
    assert client.get(reverse("evaluation:case", args=[case.pk])).status_code == 403
    client.force_login(org.user("window_staff", org.ent_a))
    assert client.get(reverse("evaluation:case", args=[case.pk])).status_code == 404
    client.force_login(c.head)
    assert client.get(reverse("evaluation:case", args=[case.pk])).status_code == 200


def test_a_cases_phone_follows_the_systems_phone_rule(c, client):
    # "12345" was refused as "digits only" though it is digits; a mobile typed with dashes
    # (as a roster or a visitor may be) was refused outright.
    client.force_login(c.clerk)
    refused = client.post(
        reverse("evaluation:case_new"), {"service": c.social.pk, "person_phone": "12345"}
    )
    assert refused.status_code == 422
    assert "请填写11位手机号码或带区号的固定电话。" in text_of(refused)
    assert "只能包含数字" not in text_of(refused)
    typed = client.post(
        reverse("evaluation:case_new"), {"service": c.social.pk, "person_phone": "138-1234-5678"}
    )
    assert typed.status_code == 302
    assert Case.objects.get().person_phone == "13812345678"
