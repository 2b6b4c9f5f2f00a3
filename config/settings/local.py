"""The embedded default: SQLite and a broker that needs no server, for `make run`."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Only for the local demo; production.py has no default secret.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-demo-not-secret-3f9c1d7e")
