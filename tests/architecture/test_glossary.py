"""German names the product's entity one way: a promise is a "Leistungsversprechen" in every catalogue
(the domain apps' catalogues win over web's for a shared msgid, so a second word shows up on the pages
as soon as one catalogue uses it). "Zusage" is kept for the commitment, the act of committing."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

from tests.architecture.test_translations import ROOT, _catalogues

PROMISE_NOUN = re.compile(r"\bpromises?\b", re.IGNORECASE)
OTHER_WORDS = re.compile(r"(?<!Leistungs)Versprechen|\bZusagen?\b")


def _translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


@pytest.mark.parametrize("po_path", [path for path in _catalogues() if path.parts[-3] == "de"],
                         ids=lambda path: str(Path(path).relative_to(ROOT)))
def test_a_promise_is_a_leistungsversprechen_in_every_german_catalogue(po_path):
    catalogue = polib.pofile(str(po_path))
    other_words = [(entry.msgid, text) for entry in catalogue if not entry.obsolete
                   and PROMISE_NOUN.search(entry.msgid) and "commit" not in entry.msgid.lower()
                   for text in _translations(entry) if OTHER_WORDS.search(text)]
    assert other_words == []


def test_the_header_and_the_model_say_leistungsversprechen():
    from promises.models import ServicePromise

    with translation.override("de"):
        assert str(ServicePromise._meta.verbose_name) == "Leistungsversprechen"
        assert translation.gettext("Promises") == "Leistungsversprechen"
        assert translation.gettext("Promise") == "Leistungsversprechen"
