"""The KVP demo data: realistic content through the services, loaded once.

seed_demo itself is exercised by tests/core; here the KVP part runs on the demo's teams, users and
categories alone, which keeps it fast."""

from __future__ import annotations

from django.utils import timezone

from core.demo import seed_categories, seed_teams, seed_users
from feedback.demo import seed_kvp
from feedback.models import Feedback, Guidance, ImprovementItem
from qualitygates.models import GatePlan


def test_seed_kvp_adds_content_in_every_state_once(db):
    teams = seed_teams(timezone.localdate())
    users, categories = seed_users(teams), seed_categories(teams)

    seed_kvp(users=users, categories=categories)

    states = set(ImprovementItem.objects.values_list("state", flat=True))
    assert states == {"proposed", "accepted", "planned", "in_progress", "checking", "standardized", "rejected"}
    assert Feedback.objects.filter(external_reference__startswith="DEMO-FB-").count() == 7
    assert Guidance.objects.filter(category__slug="hotline-24-7", retired_at__isnull=True).exists()
    assert GatePlan.objects.filter(category__slug="on-site-service-response").count() == 2
    counts = (Feedback.objects.count(), ImprovementItem.objects.count(), Guidance.objects.count())

    seed_kvp(users=users, categories=categories)
    assert (Feedback.objects.count(), ImprovementItem.objects.count(), Guidance.objects.count()) == counts
