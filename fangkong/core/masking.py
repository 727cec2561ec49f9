"""How names, document and phone numbers look to someone who may not see them in full."""

from .text import mask_middle


def mask_id_number(number: str) -> str:
    """Mask a document number: 3703**********123X."""
    return mask_middle(number, keep_start=4, keep_end=4 if len(number) > 10 else 2)


def mask_phone(number: str) -> str:
    """Mask a phone number: 138****5678."""
    return mask_middle(number, keep_start=3, keep_end=4)


def name_masked(name: str) -> str:
    """Keep a name's first and last character: 张三伟 → 张*伟, 张伟 → 张*, 欧阳娜娜 → 欧**娜.

    What a pass and the personal declaration page show: the holder knows it is theirs, a
    screenshot passed round a group chat names nobody.
    """
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
