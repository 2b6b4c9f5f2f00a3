"""The controllable clock for every test here."""

from tests.gate_flow import clock  # noqa: F401
