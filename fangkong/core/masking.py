"""How document and phone numbers look to someone who may not see them in full."""

from .text import mask_middle


def mask_id_number(number: str) -> str:
    """Mask a document number: 3703**********123X."""
    return mask_middle(number, keep_start=4, keep_end=4 if len(number) > 10 else 2)


def mask_phone(number: str) -> str:
    """Mask a phone number: 138****5678."""
    return mask_middle(number, keep_start=3, keep_end=4)
