"""The demo reads consistently: a rework reason fits its promise (a delivery promise is not sent back for
weekend on-call staff), and each promise is written in one language."""

from demo.catalogue import CATEGORIES
from demo.promises import REWORK_REASONS, SPECS


def test_every_demo_category_has_its_own_rework_reason():
    assert {spec.category for spec in SPECS} <= set(REWORK_REASONS) <= {slug for _name, _name_de, slug, *_rest in CATEGORIES}
    assert len(set(REWORK_REASONS.values())) == len(REWORK_REASONS)
    assert "weekend on-call" not in REWORK_REASONS["delivery-lead-time"]


GERMAN_MARKS = {"der", "die", "das", "des", "und", "für", "mit", "von", "binnen", "am", "im", "ohne", "um", "nach",
                "einem", "aus", "nicht", "weil", "hat", "war"}


def _german(text: str) -> bool:
    words = set(text.lower().replace(":", " ").replace(",", " ").replace(".", " ").split())
    return bool(words & GERMAN_MARKS) or any(letter in text for letter in "äöüß")


def test_each_demo_promise_is_written_in_one_language():
    # a German customer's status page shows the title and the description together
    mixed = [spec.title for spec in SPECS
             if len({_german(spec.title), _german(spec.description), _german(spec.broken_reason)}) > 1]
    assert mixed == []
