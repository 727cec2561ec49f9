"""The symptom list and status rules a fresh installation starts with (editable in admin)."""

from typing import Any

DEFAULT_SYMPTOMS = [
    ("cough", "咳嗽", "Cough"),
    ("fatigue", "乏力", "Fatigue"),
    ("sore_throat", "咽痛", "Sore throat"),
    ("smell_taste", "嗅觉味觉减退", "Loss of smell or taste"),
    ("breathing", "呼吸困难", "Shortness of breath"),
    ("muscle_ache", "肌肉酸痛", "Muscle ache"),
    ("diarrhoea", "腹泻", "Diarrhoea"),
    ("runny_nose", "鼻塞流涕", "Runny nose"),
]

# (condition, colour): a positive test and a confirmed contact are red, every other
# matched condition yellow. Fever's threshold is in the outbreak profile.
DEFAULT_RULES = [
    ("fever", "yellow"),
    ("symptom", "yellow"),
    ("contact_suspected", "yellow"),
    ("risk_area", "yellow"),
    ("contact_confirmed", "red"),
    ("test_positive", "red"),
]


def install_defaults(symptom_model: Any, rule_model: Any) -> None:
    """Create the default symptoms and rules where none exist yet."""
    if not symptom_model.objects.exists():
        symptom_model.objects.bulk_create(
            symptom_model(code=code, name=name, name_en=name_en, order=index)
            for index, (code, name, name_en) in enumerate(DEFAULT_SYMPTOMS)
        )
    if not rule_model.objects.exists():
        rule_model.objects.bulk_create(
            rule_model(condition=condition, colour=colour) for condition, colour in DEFAULT_RULES
        )
