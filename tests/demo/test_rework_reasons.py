"""The demo's rework reasons fit the promise they are on: a delivery promise is not sent back because of
weekend on-call staff. Every category the demo makes promises in has its own reason."""

from demo.catalogue import CATEGORIES
from demo.promises import REWORK_REASONS, SPECS


def test_every_demo_category_has_its_own_rework_reason():
    assert {spec.category for spec in SPECS} <= set(REWORK_REASONS) <= {slug for _n, slug, *_rest in CATEGORIES}
    assert len(set(REWORK_REASONS.values())) == len(REWORK_REASONS)
    assert "weekend on-call" not in REWORK_REASONS["delivery-lead-time"]
