"""Who may write in the KVP loop: a team member records and proposes, a manager decides."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from core.errors import CommonErrorCode, NotAllowed
from core.roles import is_manager, team_names

from ..error_codes import FeedbackErrorCode


def require_team_member(user: AbstractBaseUser | None, refusal: str) -> None:
    """`refusal` is the translated sentence shown when the user is in no team."""
    if not (user and user.is_authenticated and (user.is_superuser or team_names(user))):
        raise NotAllowed(refusal, code=FeedbackErrorCode.NOT_TEAM_MEMBER)


def require_manager(user: AbstractBaseUser | None, refusal: str) -> None:
    if not is_manager(user):
        raise NotAllowed(refusal, code=CommonErrorCode.NOT_MANAGER)
