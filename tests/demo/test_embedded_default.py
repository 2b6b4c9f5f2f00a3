"""`make run` works on the embedded default: SQLite. The suite runs on PostgreSQL, so hand-written SQL
that only PostgreSQL understands would slip through; this runs the demo's whole lifecycle (every
service, through every state) on a fresh SQLite file, in a subprocess with the local settings."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_seeds_on_sqlite(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "50 promises created" in done.stdout
