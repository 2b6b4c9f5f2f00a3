"""What the benchmarks share: a throw-away database (the test database of DATABASE_URL)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def throwaway_database() -> Iterator[None]:
    """Create the test database, and drop it afterwards whatever happens. Call after django.setup()."""
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
