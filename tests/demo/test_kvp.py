"""The KVP demo data: realistic content through the services, loaded once.

seed_demo as a whole is exercised by test_seed_demo.py; here the KVP part runs on the demo's teams,
users and categories alone, which keeps it fast."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from demo.catalogue import seed_categories
from demo.clock import DemoClock
from demo.kvp import seed_kvp
from demo.people import seed_teams, seed_users
from feedback.models import Feedback, Guidance, ImprovementItem
from qualitygates.models import GatePlan


def test_seed_kvp_adds_content_in_every_state_once(db):
    clock = DemoClock(timezone.now())
    teams = seed_teams(today=clock.today)
    users = seed_users(teams=teams)
    categories = seed_categories(teams=teams, manager=users["manager"], clock=clock)

    seed_kvp(users=users, categories=categories, clock=clock)

    states = set(ImprovementItem.objects.values_list("state", flat=True))
    assert states == {"proposed", "accepted", "planned", "in_progress", "checking", "standardized", "rejected"}
    assert Feedback.objects.filter(external_reference__startswith="DEMO-FB-").count() == 7
    assert Guidance.objects.filter(category__slug="hotline-24-7", retired_at__isnull=True).exists()
    assert GatePlan.objects.filter(category__slug="on-site-service-response").count() == 2
    # The hotline item plans two targets: the wait typed by hand, satisfaction measured by the product
    # from the CSAT scores of the hotline's feedback (4 and 2).
    hotline = ImprovementItem.objects.get(title__startswith="Rückrufoption")
    wait, csat = hotline.targets.order_by("order")
    assert (wait.metric.unit, wait.manual_value, wait.reached) == ("min", Decimal("0.9"), True)
    assert (csat.product_value, csat.product_counts, csat.reached) == (Decimal("3"), {"responses": 2}, False)
    counts = (Feedback.objects.count(), ImprovementItem.objects.count(), Guidance.objects.count())

    seed_kvp(users=users, categories=categories, clock=clock)
    assert (Feedback.objects.count(), ImprovementItem.objects.count(), Guidance.objects.count()) == counts
