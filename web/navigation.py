"""What the header offers each role. One place, so a page never links where its reader may not go."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import roles


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


def nav_items(user) -> list[NavItem]:
    if not user or not user.is_authenticated:
        return []
    items = [NavItem(_("My work"), "web:home")]
    manager = roles.is_manager(user)
    if roles.is_promise_maker(user) or roles.team_names(user) & set(roles.GATEKEEPER_TEAMS):
        items.append(NavItem(_("Promises"), "web:promise-list"))
    if manager or roles.team_names(user) & set(roles.GATEKEEPER_TEAMS):
        items.append(NavItem(_("Gate queue"), "web:gate-queue"))
    if manager or roles.team_names(user) & set(roles.GATEKEEPER_TEAMS):
        items.append(NavItem(_("Feedback"), "web:feedback-new"))
    if manager:
        items.append(NavItem(_("Dashboard"), "web:dashboard"))
    items.append(NavItem(_("KVP board"), "web:kvp-board"))
    return items
