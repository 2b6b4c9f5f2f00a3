#!/usr/bin/env bash
# `make bench` (SCALE=0.02 by default, minutes) and `make bench SCALE=1` (a million promises; the data
# set alone takes ~5 minutes on a quiet machine). Prints every figure of bench/RESULTS.md at that scale.
# Each benchmark uses databases and Redis numbers of its own; nothing here touches the test databases.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
SCALE="${SCALE:-0.02}"
PG="postgres://postgres@127.0.0.1:5432"
NAME="sqg_bench_$(echo "$SCALE" | tr -c '0-9\n' '_')"
REDIS_DB="${BENCH_REDIS_DB:-9}"
echo "== bench at scale $SCALE ($(uptime))"

echo "== data set: bench/generate.py --scale $SCALE into $NAME"
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $NAME" postgres
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $NAME" postgres
DATABASE_URL="$PG/$NAME" $PY bench/generate.py --scale "$SCALE"

echo "== read paths: bench/queries.py"
DATABASE_URL="$PG/$NAME" $PY bench/queries.py --label "make bench, scale $SCALE"
if [ -f bench/pages.py ]; then
  echo "== pages: bench/pages.py"
  DATABASE_URL="$PG/$NAME" $PY bench/pages.py
fi
echo "== summaries equal a full recomputation"
DATABASE_URL="$PG/$NAME" $PY manage.py kvp_summaries
[ "${KEEP_BENCH_DB:-}" = "1" ] || psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $NAME" postgres

echo "== gate decisions: bench/decisions.py"
DATABASE_URL="$PG/sqg_bench_decisions" CELERY_BROKER_URL="redis://127.0.0.1:6379/$REDIS_DB" \
  $PY bench/decisions.py --batch 50 --rounds 4

echo "== notifications: bench/notifications.py"
DATABASE_URL="$PG/sqg_bench_notifications" CELERY_BROKER_URL="redis://127.0.0.1:6379/$REDIS_DB" \
  $PY bench/notifications.py --events 500 --burst 1000 --paced 50

echo "== the API under gunicorn: bench/api.py"
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
$PY bench/api.py --seconds 10 --rounds 2
echo "== done ($(uptime))"
