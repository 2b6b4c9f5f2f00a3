"""English and German complete: every catalogue of the project is fully translated (nothing empty,
nothing fuzzy, the compiled .mo matches its .po), and every model name, field name and choice label
is a lazy translation that German has.

A word that reads the same in both languages ("Marketing", "Webhook", "≤") passes when German
catalogues it; one that no catalogue has is a string somebody forgot to translate."""

from __future__ import annotations

import enum
from pathlib import Path

import polib
import pytest
from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parents[2]
IGNORED_DIRS = {".venv", "node_modules", "var", ".git"}


def _catalogues() -> list[Path]:
    return sorted(path for path in ROOT.rglob("locale/*/LC_MESSAGES/django.po")
                  if not IGNORED_DIRS & set(path.relative_to(ROOT).parts))


def _project_app_labels() -> set[str]:
    return {config.label for config in apps.get_app_configs()
            if Path(config.path).resolve().is_relative_to(ROOT)
            and not IGNORED_DIRS & set(Path(config.path).resolve().relative_to(ROOT).parts)}


def test_the_internal_summaries_are_not_in_the_admin():
    from django.contrib import admin
    shown = {model._meta.label for model in admin.site._registry}
    assert INTERNAL_SUMMARY_MODELS - {label for label in INTERNAL_SUMMARY_MODELS if apps.get_model(label)} == set()
    assert shown & INTERNAL_SUMMARY_MODELS == set()


def test_the_checks_see_the_project():
    assert {"promises", "qualitygates", "feedback", "notifications", "api", "web"} <= {
        path.relative_to(ROOT).parts[0] for path in _catalogues()}
    assert {"promises", "qualitygates", "feedback", "notifications", "api"} <= _project_app_labels()


@pytest.mark.parametrize("po_path", _catalogues(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_catalogue_is_translated_and_compiled(po_path):
    catalogue = polib.pofile(str(po_path))
    live = [entry for entry in catalogue if not entry.obsolete]
    assert [entry.msgid for entry in live if not entry.translated()] == [], "untranslated"
    assert [entry.msgid for entry in live if "fuzzy" in entry.flags] == [], "fuzzy"
    compiled_path = po_path.with_suffix(".mo")
    assert compiled_path.exists(), f"msgfmt --check-format -o {compiled_path.relative_to(ROOT)} {po_path.relative_to(ROOT)}"
    compiled = {(entry.msgctxt, entry.msgid): (entry.msgstr, entry.msgstr_plural)
                for entry in polib.mofile(str(compiled_path))}
    stale = [entry.msgid for entry in live
             if compiled.get((entry.msgctxt, entry.msgid)) != (entry.msgstr, entry.msgstr_plural)]
    assert stale == [], f"{compiled_path.relative_to(ROOT)} is older than its .po: run msgfmt"


def _problem(value) -> str | None:
    """None when `value` is a lazy translation that German has, else what is wrong with it."""
    if not isinstance(value, Promise):
        return f"{value!r} is not marked for translation (gettext_lazy)"
    with translation.override("en"):
        english = str(value)
    with translation.override("de"):
        german = str(value)
    if german != english:
        return None
    args = getattr(value, "_args", ())
    key = f"{args[0]}\x04{args[1]}" if len(args) == 2 else (args[0] if args else english)
    if key in trans_real.translation("de")._catalog:
        return None
    return f"{english!r} has no German translation"


# Summary rows that only the read side's SQL reads (issue 13): no page, form or admin shows their
# names, so they carry none to translate. A summary that gets an admin page must leave this list.
INTERNAL_SUMMARY_MODELS = {"promises.PromiseDay", "promises.BrokenReasonDay", "qualitygates.GateLeadTimeMonth",
                           "qualitygates.GateEscapeTally", "qualitygates.GateEscapeReason", "feedback.FeedbackMonth"}


def _labelled_things():
    """(where, value) for every model name, field name and choice label of the project's apps."""
    labels = _project_app_labels()
    for model in apps.get_models():
        if model._meta.app_label not in labels or model._meta.label in INTERNAL_SUMMARY_MODELS:
            continue
        where = model._meta.label
        for option in ("verbose_name", "verbose_name_plural"):
            yield f"{where} Meta.{option}", model._meta.original_attrs.get(option)
        for field in model._meta.get_fields():
            if field.auto_created or not getattr(field, "concrete", False) and not field.many_to_many:
                continue
            yield f"{where}.{field.name}", field.verbose_name
            for value, label in field.flatchoices if field.choices else ():
                yield f"{where}.{field.name} choice {value!r}", label
    for choices in _all_subclasses(models.Choices):
        module = choices.__module__.split(".")[0]
        if module in labels and isinstance(choices, enum.EnumMeta):
            for member in choices:
                yield f"{choices.__module__}.{choices.__name__}.{member.name}", member.label


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_model_name_field_name_and_choice_label_is_translated():
    problems = [f"{where}: {problem}" for where, value in _labelled_things() if (problem := _problem(value))]
    assert problems == []


def test_the_model_check_catches_a_forgotten_translation():
    """Guards the check above against passing on nothing."""
    assert len(list(_labelled_things())) > 200
    assert _problem("created at") is not None
    assert _problem(translation.gettext_lazy("No German for this sentence, surely.")) is not None
    assert _problem(translation.gettext_lazy("Webhook")) is None  # the same in German, and catalogued
