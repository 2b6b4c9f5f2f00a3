"""What the page tests share: the controllable clock of the gate tests."""

from tests.gate_flow import clock  # noqa: F401
