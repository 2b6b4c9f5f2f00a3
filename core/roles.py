"""Roles are Django groups. The names are the product's; seed_demo creates them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

SALES, MARKETING, PRESALES = "sales", "marketing", "presales"
SERVICE, DELIVERY, LEGAL = "service", "delivery", "legal"
MANAGERS = "managers"
# Operators support the running system: the outbox and its deliveries in the admin, no business record.
OPERATORS = "operators"

PROMISE_MAKER_TEAMS = (SALES, MARKETING, PRESALES)
GATEKEEPER_TEAMS = (SERVICE, DELIVERY, LEGAL)
ALL_TEAMS = (*PROMISE_MAKER_TEAMS, *GATEKEEPER_TEAMS, MANAGERS, OPERATORS)


def _teams(user: AbstractBaseUser) -> dict[int, str]:
    """The user's groups by id, read once (one query) and cached on the user object for the request."""
    cached = getattr(user, "_teams_cache", None)
    if cached is None:
        cached = dict(user.groups.values_list("id", "name"))
        user._teams_cache = cached
    return cached


# The admin is for configuration and operations. What a non-superuser of each role may hold model
# permissions on there (app_label.model); core.auth_backends ignores every other permission a
# group or user was given, so no one but a superuser can see or edit users, groups and
# permissions, or read a business record, in the admin (README, "Who sees what").
ADMIN_MODELS = {
    MANAGERS: frozenset({
        # the catalogue they keep, and the promises and customer contacts they answer for (status
        # links revoked and re-issued, personal data exported and erased: admin actions for managers)
        "promises.promisecategory", "promises.metric", "promises.servicepromise", "promises.customer",
        "qualitygates.gateplan", "qualitygates.gatedefinition", "qualitygates.gatecriterion",
        "qualitygates.workingcalendar", "qualitygates.calendarclosure",
        "feedback.guidance", "feedback.improvementitem", "feedback.improvementtransition", "feedback.feedback",
    }),
    OPERATORS: frozenset({"notifications.delivery", "notifications.outboxevent"}),
}


def admin_models(user: AbstractBaseUser) -> frozenset[str]:
    """The models the user's roles configure in the admin."""
    return frozenset().union(*(ADMIN_MODELS.get(name, frozenset()) for name in team_names(user)))


def team_ids(user: AbstractBaseUser) -> set[int]:
    if not user or not user.is_authenticated:
        return set()
    return set(_teams(user))


def team_names(user: AbstractBaseUser) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    return set(_teams(user).values())


def is_manager(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or MANAGERS in team_names(user)))


def is_operator(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_authenticated and OPERATORS in team_names(user))


def is_promise_maker(user: AbstractBaseUser) -> bool:
    return bool(user and user.is_authenticated and (is_manager(user) or team_names(user) & set(PROMISE_MAKER_TEAMS)))


def is_member(user: AbstractBaseUser, team_id: int) -> bool:
    return team_id in team_ids(user)


def maker_departments(user: AbstractBaseUser) -> set[str]:
    """The promise-making departments the user belongs to (the names equal the promise's
    `origin_department` values): their promises are the user's department's."""
    return team_names(user) & set(PROMISE_MAKER_TEAMS)
