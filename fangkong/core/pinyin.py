"""Pinyin forms of Chinese names, for search by initials (e.g. "sdly" finds 山东铝业)."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def name_initials(name: str) -> str:
    """Return the lower-case pinyin initials of a name; other characters pass through."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()[:128]


@lru_cache(maxsize=65536)
def name_pinyin(name: str) -> str:
    """Return the full pinyin of a name without tones or spaces."""
    return "".join(lazy_pinyin(name)).lower()[:512]
