#!/usr/bin/env bash
# The whole suite. Uses the real PostgreSQL and Redis when they answer. With CI=true it starts
# them when they are down and fails loudly if that does not help: CI never falls back to SQLite.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

if [ "${CI:-}" = "true" ]; then
  missing=$($PY scripts/services.py --start)
  if [ -n "$missing" ]; then
    echo "FATAL: CI needs PostgreSQL and Redis, and these do not answer even after starting them: $missing" >&2
    exit 1
  fi
else
  missing=$($PY scripts/services.py)
fi

# The browser tests (tests/e2e) drive Debian's Chromium through Playwright, never a downloaded browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests ..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
      echo "FATAL: CI needs Chromium for the browser tests, and 'apt-get install chromium' did not bring it." >&2
      exit 1
    fi
    echo "WARNING: Chromium is not installed (as root: apt-get install chromium): the browser tests are SKIPPED." >&2
  fi
fi

if [[ " $missing " != *" postgres "* ]]; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/${SQG_DB_NAME:-sqg}}"
else
  unset DATABASE_URL
  echo "WARNING: PostgreSQL does not answer on 127.0.0.1:5432: running on SQLite; tests marked" >&2
  echo "         'postgres' are SKIPPED (see the skip list at the end)." >&2
fi
if [[ " $missing " != *" redis "* ]]; then
  export SQG_TEST_REDIS_URL="${SQG_TEST_REDIS_URL:-redis://127.0.0.1:6379/${SQG_REDIS_DB:-15}}"
else
  unset SQG_TEST_REDIS_URL
  echo "WARNING: Redis does not answer on 127.0.0.1:6379: tests marked 'redis' are SKIPPED." >&2
fi

$PY -m pytest "$@"
status=$?
if [ $status -eq 5 ]; then
  echo "FATAL: pytest collected no tests." >&2
fi
exit $status
