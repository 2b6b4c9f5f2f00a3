"""Roles are Django groups. The names are the product's; seed_demo creates them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

SALES, MARKETING, PRESALES = "sales", "marketing", "presales"
SERVICE, DELIVERY, LEGAL = "service", "delivery", "legal"
MANAGERS = "managers"

PROMISE_MAKER_TEAMS = (SALES, MARKETING, PRESALES)
GATEKEEPER_TEAMS = (SERVICE, DELIVERY, LEGAL)
ALL_TEAMS = (*PROMISE_MAKER_TEAMS, *GATEKEEPER_TEAMS, MANAGERS)


def team_ids(user: AbstractBaseUser) -> set[int]:
    """The ids of the user's groups, cached on the user object for the request."""
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_team_ids_cache", None)
    if cached is None:
        cached = set(user.groups.values_list("id", flat=True))
        user._team_ids_cache = cached
    return cached


def team_names(user: AbstractBaseUser) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_team_names_cache", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._team_names_cache = cached
    return cached


def is_manager(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or MANAGERS in team_names(user)))


def is_promise_maker(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_authenticated and (is_manager(user) or team_names(user) & set(PROMISE_MAKER_TEAMS)))


def is_member(user: AbstractBaseUser, team_id: int) -> bool:
    return team_id in team_ids(user)
