"""Suite-wide fixtures. Tests that need the real PostgreSQL or Redis are marked; outside CI a run
without them skips those tests loudly, in CI it fails."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

pytest_plugins = ["tests.factories", "tests.clock_support"]

_SKIPPED: list[str] = []


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    in_ci = os.environ.get("CI") == "true"
    reasons = {
        "postgres": None if _on_postgres() else "PostgreSQL is not available (DATABASE_URL is not PostgreSQL)",
        "redis": None if os.environ.get("SQG_TEST_REDIS_URL") else "Redis is not available (SQG_TEST_REDIS_URL unset)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                if in_ci:
                    raise pytest.UsageError(f"CI=true but {reason}: {item.nodeid} cannot run.")
                _SKIPPED.append(f"{item.nodeid}: {reason}")
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter):
    if _SKIPPED:
        terminalreporter.section("SKIPPED FOR MISSING SERVICES", sep="!", red=True, bold=True)
        for line in _SKIPPED:
            terminalreporter.line(line, red=True)
