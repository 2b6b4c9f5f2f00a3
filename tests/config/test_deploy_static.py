"""Every documented way of running production collects the static files first: WhiteNoise serves the CSS
and htmx from STATIC_ROOT as it finds it when a web process starts, and under production settings
(DEBUG off) nothing else serves them, so a release without collectstatic shows unstyled pages without
htmx."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECT = "manage.py collectstatic --noinput"


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def _unit(name: str) -> list[tuple[str, str]]:
    lines = (ROOT / "deploy" / "systemd" / name).read_text().splitlines()
    return [tuple(line.split("=", 1)) for line in lines if "=" in line and not line.startswith("#")]


def test_the_procfile_release_step_collects_static_files():
    assert COLLECT in _procfile()["release"]


def test_the_web_unit_collects_static_files_before_it_starts_and_before_a_reload_rolls_the_workers():
    unit = _unit("sqg-web.service")
    assert ("ExecStartPre", f"/srv/sqg/.venv/bin/python {COLLECT}") in unit
    reloads = [command for key, command in unit if key == "ExecReload"]
    assert COLLECT in reloads[0] and reloads[-1] == "/bin/kill -HUP $MAINPID"


def test_the_readme_install_steps_collect_static_files():
    assert COLLECT in (ROOT / "README.md").read_text()
