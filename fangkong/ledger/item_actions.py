"""Actions that apps above the ledger add to the item page (put under supervision, …).

The ledger may not import the apps whose kinds it runs, so each app registers an
``ItemAction`` in its ``AppConfig.ready()``: a label, a function returning the action's
page for an item, and a function telling whether a viewer may take it there. The item
page lists the actions the viewer may take as links; the app's own page does the rest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fangkong.accounts.actors import Viewer

from .models import Item


@dataclass(frozen=True)
class ItemAction:
    key: str
    label: Any  # a lazy translation, or a function of the item returning the label
    url: Callable[[Item], str]
    allowed: Callable[[Viewer, Item], bool]
    order: int = 100

    def label_for(self, item: Item) -> str:
        return str(self.label(item) if callable(self.label) else self.label)


@dataclass(frozen=True)
class Link:
    """One action as the page shows it."""

    key: str
    label: str
    url: str


_ACTIONS: dict[str, ItemAction] = {}


def register(action: ItemAction) -> None:
    """Add (or replace, by key) an action of the item page."""
    _ACTIONS[action.key] = action


def unregister(key: str) -> None:
    _ACTIONS.pop(key, None)


def actions_for(user: Viewer, item: Item) -> list[Link]:
    """The actions ``user`` may take on ``item``, in order, as links."""
    return [
        Link(action.key, action.label_for(item), action.url(item))
        for action in sorted(_ACTIONS.values(), key=lambda a: (a.order, a.key))
        if action.allowed(user, item)
    ]
