"""Which moves of an improvement item a user is offered: those its state allows (the state machine)
and the user's role allows (feedback.services.improvements: a manager decides; the item's owner may
also start it, report its check and send it back to work). The services enforce the same rules; a
page offers only what they would accept."""

from __future__ import annotations

from core.roles import is_manager

from ..models import ImprovementItem

# The order a page shows them in: forward first, the ways out last.
ACTION_ORDER = ("accept", "plan", "start", "check_effect", "standardize", "rework", "reject", "abandon")
OWNER_ACTIONS = frozenset({"start", "check_effect", "rework"})


def improvement_actions(*, item: ImprovementItem, user) -> list[str]:
    """The transition names (the model's methods) `user` may run on `item` now. No query."""
    if user is None or not user.is_authenticated:
        return []
    possible = {t.name for t in item.get_available_state_transitions()}
    if not is_manager(user):
        possible &= OWNER_ACTIONS if item.owner_id and item.owner_id == user.pk else set()
    return [name for name in ACTION_ORDER if name in possible]
