"""Reference data of service evaluation: the jurisdiction profiles (the seed's default in
use; presets for Zhejiang and Dezhou) and the first tag set. Installed by migration 0002
and by the tests' ``reference_data``; admins edit both afterwards (a new tag set is a new
version)."""

from typing import Any

PROFILES = [
    # name, callback hours, rectification working days, follow-up wait days, in use
    ("淄博保税物流园区（默认）", 24, 7, 7, True),
    ("浙江省", 24, 15, 7, False),
    ("德州市", 24, 5, 7, False),
]

TAGS = {
    "5": ["办事效率高", "服务态度好", "一次办好", "指引清楚"],
    "4": ["办事效率高", "服务态度好", "指引清楚"],
    "3": ["等候时间长", "流程较复杂"],
    "2": ["办事效率低", "态度不好", "多次跑腿", "等候时间长", "材料要求不清"],
    "1": ["办事效率低", "态度不好", "多次跑腿", "推诿扯皮", "材料要求不清"],
}


def install_defaults(Profile: Any, TagSet: Any) -> None:
    for name, hours, days, wait, active in PROFILES:
        Profile.objects.get_or_create(
            name=name,
            defaults={
                "callback_hours": hours,
                "rectify_working_days": days,
                "follow_up_days": wait,
                "is_active": active,
            },
        )
    TagSet.objects.get_or_create(version=1, defaults={"tags": TAGS})
