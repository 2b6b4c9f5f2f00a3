"""The API under gunicorn: gate decisions and the busiest reads against a trivial endpoint of the same server.

    .venv/bin/python bench/api.py [--seconds 10] [--rounds 2] [--connections 2] [--gates 2500] \
        [--port 8120] [--redis-port 8121] [--database sqg_decide_api]

The stack is production's (bench/_soak_stack.py starts the soak's the same way): gunicorn with
gunicorn.conf.py and 2 sync workers, `config.settings.production`, PostgreSQL (a database of its own,
dropped and created, migrated, `seed_demo`), a Redis server of its own on --redis-port (cache,
throttle counters, broker), and one Celery worker (concurrency 1) fanning out the decisions'
events while the load runs. Requests come from wrk (Debian's `wrk`, script bench/api_load.lua) on
loopback with a fixed number of connections (a closed loop: the load is bounded by the server's own
answers), each run --seconds long, the endpoints interleaved round by round:

- trivial:   GET  /api/me/                        (token auth, one small query)
- decide:    POST /api/gates/{id}/decide/         (a go on a fresh open gate, which opens the next one)
- promises:  GET  /api/promises/                  (a manager's first page)
- queue:     GET  /api/gates/?state=open          (a gatekeeper's open gates, first page)
- dashboard: GET  /admin/feedback/improvementitem/dashboard/  (a manager's KVP dashboard, session cookie)

Bench-only settings, all through the environment (production's defaults are untouched):
API_THROTTLE_USER=1000000/min lifts the per-user API throttle (1200/min in production: the bench is
one user sending thousands of requests a minute); GUNICORN_MAX_REQUESTS=1000000 keeps the workers for
the whole run (production recycles one every ~2000 requests, which would put a worker's start-up into
the figures); e-mail goes to Django's dummy backend. Requests carry `X-Forwarded-Proto: https`, as
they do behind the TLS-terminating proxy production runs behind (SECURE_SSL_REDIRECT stays on).

It prints one line per endpoint and round (req/s, p50/p95/p99, errors) and, per round, the decide and
read rates as a share of the trivial endpoint's, with the load average before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VAR = ROOT / "var" / "bench-api"
LUA = ROOT / "bench" / "api_load.lua"
PG = "postgres://postgres@127.0.0.1:5432"
THREADS = 2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2, help="wrk connections (2 = one per worker)")
    parser.add_argument("--gates", type=int, default=2500, help="open gates prepared for the decide runs")
    parser.add_argument("--port", type=int, default=8120)
    parser.add_argument("--redis-port", type=int, default=8121)
    parser.add_argument("--database", default="sqg_decide_api")
    parser.add_argument("--only", default="", help="comma-separated endpoints to run (default: all)")
    args = parser.parse_args()

    from tests.ops.own_redis import OwnRedis

    VAR.mkdir(parents=True, exist_ok=True)
    redis = OwnRedis(args.redis_port)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-not-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{PG}/{args.database}",
        "REDIS_URL": redis.url(0),
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "API_THROTTLE_USER": "1000000/min",
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_MAX_REQUESTS": "1000000",
        "PROMETHEUS_MULTIPROC_DIR": str(VAR / "prometheus"),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("EMAIL_URL", "CELERY_BROKER_URL", "SQG_TEST_REDIS_URL", "GUNICORN_THREADS"):
        env.pop(name, None)
    processes: list[subprocess.Popen] = []
    redis.start()
    try:
        started = time.monotonic()
        prepare_database(env, args)
        fixtures = prepare_load(env, args)
        # The set-up's own fan-out messages would keep the worker busy during the runs: dropped (their
        # outbox rows stay, unsent; no beat runs to sweep them).
        import redis as redis_client

        redis_client.Redis.from_url(redis.url(0)).flushdb()
        web = spawn([str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py"], env, "gunicorn")
        processes.append(web)
        processes.append(spawn([sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING",
                                "--concurrency=1", "--without-gossip", "--without-mingle"], env, "worker"))
        wait_ready(args.port)
        fixtures["tokens"] = tokens(args.port)
        print(f"# stack ready in {time.monotonic() - started:.0f} s: {fixtures['gates']} open gates, "
              f"{fixtures['promises']} promises; wrk {THREADS} threads, {args.connections} connections, "
              f"{args.seconds} s per run")
        run_rounds(args, fixtures)
    finally:
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        redis.close()


def spawn(command: list[str], env: dict, name: str) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=(VAR / f"{name}.log").open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def prepare_database(env: dict, args) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    with (VAR / "manage.log").open("wb") as log:
        for command in (["migrate", "--noinput"], ["seed_demo"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=log,
                           stderr=subprocess.STDOUT)


def wait_ready(port: int) -> None:
    from bench._soak_stack import request

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if request("GET", port, "/health/ready/")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer on /health/ready/ within 90 s")


PREPARE = r"""
import json, sys
sys.path.insert(0, "bench")
import django
django.setup()
from django.contrib.auth.models import Group, User
from django.test import Client
from core import roles
from promises.models import ServicePromise
from _gate_world import build_world, open_gates

world = build_world()
manager = User.objects.create_user("bench-manager", password="bench-password", is_staff=True)
manager.groups.add(Group.objects.get(name=roles.MANAGERS))
gates = open_gates(world, int(sys.argv[1]))
client = Client()
client.force_login(manager)
print(json.dumps({
    "gates": [[g.review_id, list(g.check_ids)] for g in gates],
    "session": client.cookies["sessionid"].value,
    "promises": ServicePromise.objects.count(),
}))
"""


def prepare_load(env: dict, args) -> dict:
    """Open gates for the decide runs (a file of request bodies per round) and the manager's session."""
    out = subprocess.run([sys.executable, "-c", PREPARE, str(args.gates)], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    fixtures = json.loads(out.strip().splitlines()[-1])
    # The gates in the order they are used: each round's decide run gets a slice of its own.
    per_round = len(fixtures["gates"]) // args.rounds
    for round_no in range(args.rounds):
        chunk = fixtures["gates"][round_no * per_round:(round_no + 1) * per_round]
        with (VAR / f"gates-{round_no}.tsv").open("w") as f:
            for review_id, check_ids in chunk:
                body = {"decision": "go", "checks": [{"check": c, "result": "met"} for c in check_ids]}
                f.write(f"{review_id}\t{json.dumps(body, separators=(',', ':'))}\n")
    return {"session": fixtures["session"], "gates": len(fixtures["gates"]), "promises": fixtures["promises"]}


def tokens(port: int) -> dict[str, str]:
    found = {}
    for user in ("bench-servicer", "bench-manager"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/auth/token/", body=json.dumps({"username": user, "password": "bench-password"}),
                     headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status != 201:
            raise RuntimeError(f"no token for {user}: {response.status} {body[:300]!r}")
        found[user] = json.loads(body)["token"]
    return found


def endpoints(fixtures: dict, round_no: int) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (headers, script arguments)"""
    servicer = f"Authorization: Token {fixtures['tokens']['bench-servicer']}"
    manager = f"Authorization: Token {fixtures['tokens']['bench-manager']}"
    session = f"Cookie: sessionid={fixtures['session']}"
    return {
        "trivial": ([servicer], ["get", "/api/me/"]),
        "decide": ([servicer], ["decide", str(VAR / f"gates-{round_no}.tsv"), str(THREADS)]),
        "promises": ([manager], ["get", "/api/promises/"]),
        "queue": ([servicer], ["get", "/api/gates/?state=open"]),
        "dashboard": ([session], ["get", "/admin/feedback/improvementitem/dashboard/"]),
    }


def wrk(port: int, seconds: int, connections: int, headers: list[str], script_args: list[str]) -> dict:
    command = ["wrk", "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(LUA), "-H", "X-Forwarded-Proto: https"]
    for header in headers:
        command += ["-H", header]
    command += [f"http://127.0.0.1:{port}", "--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def run_rounds(args, fixtures: dict) -> None:
    only = set(filter(None, args.only.split(",")))
    for round_no in range(args.rounds):
        print(f"round {round_no + 1}  load average before: {load()}")
        rates = {}
        for name, (headers, script_args) in endpoints(fixtures, round_no).items():
            if only and name not in only and name != "trivial":
                continue
            r = wrk(args.port, args.seconds, args.connections, headers, script_args)
            rates[name] = r["rate"]
            flag = f"  EXHAUSTED {r['exhausted']}" if r["exhausted"] else ""
            print(f"  {name:10s} {r['rate']:7.1f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  "
                  f"p95 {r['p95_us'] / 1000:6.1f} ms  p99 {r['p99_us'] / 1000:6.1f} ms  "
                  f"errors {r['errors']} ({r['requests']} requests){flag}", flush=True)
        shares = "  ".join(f"{name} {rate / rates['trivial']:.2f}" for name, rate in rates.items()
                           if name != "trivial")
        print(f"  share of trivial: {shares}   load average after: {load()}", flush=True)


if __name__ == "__main__":
    main()
