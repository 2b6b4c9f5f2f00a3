"""English left on a German page: any phrase of the product's catalogues (every app's German .po)
shown untranslated. Data (names of categories, gates, customers) is not in the catalogues."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _english_phrases() -> re.Pattern:
    """Phrases of at least two words whose German differs, without placeholders (a whole phrase is
    what a reader sees; one word like "Go" or "Dashboard" is the same in both languages)."""
    phrases = set()
    for po in ROOT.glob("*/locale/de/LC_MESSAGES/django.po"):
        if ".venv" in po.parts:
            continue
        for entry in polib.pofile(str(po)):
            for msgid, msgstr in ((entry.msgid, entry.msgstr), (entry.msgid_plural, None)):
                if not msgid or "%" in msgid or "{" in msgid or "<" in msgid or msgid == msgstr:
                    continue
                if len(re.findall(r"[A-Za-z]+", msgid)) >= 2:
                    phrases.add(msgid.strip())
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def english_on_page(page, *, data: Iterable[str] = ()) -> list[str]:
    """The catalogue phrases visible on the page in English (the header, the content, the buttons),
    except those that are `data` (a metric's unit such as "working days" is the catalogue's data)."""
    return sorted(set(_english_phrases().findall(page.locator("body").inner_text())) - set(data))
