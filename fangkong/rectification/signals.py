"""What the rectification services tell the parts that watch them.

``problem_recoloured`` is sent inside the service's transaction when a problem's stored
colour changes, with ``problem``, ``previous`` (the colour before) and ``now``.
Supervision listens: it tells the owners and the supervising unit, and recolours the
problem's supervision order.
"""

from django.dispatch import Signal

problem_recoloured = Signal()
