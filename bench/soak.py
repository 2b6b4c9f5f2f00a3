"""Soak run: the production-like stack under a mix of users, through a Redis outage and a killed worker.

    .venv/bin/python bench/soak.py               # 10 minutes of load, then the drain
    .venv/bin/python bench/soak.py --minutes 2   # a short run

It starts, all on 127.0.0.1: a Redis of its own (port 6391; cache and broker), PostgreSQL database
`sqg_soak` (dropped and re-created, migrated, `seed_demo`), gunicorn with 2 workers on port 8101
(config.settings.production), one Celery worker (the Procfile's options) and beat. Makers create,
submit, commit, hand over and verify promises, gatekeepers decide gates, a manager records feedback,
all through the REST API; every demo user also has a webhook to a receiver in this process, and
e-mail goes to files (EMAIL_BACKEND, the file backend). At 30 % of the time Redis is stopped for a
minute; at 65 % the worker and its pool are SIGKILLed and started again 5 s later, as a supervisor
would. After the load it waits for the outbox to drain, then prints requests by status,
notifications expected / delivered / duplicated per channel, the outbox backlog over time and each
process's resident memory at start and end. Exit status 0 when no response was >= 500, nothing was
lost and nothing duplicated.
"""

from __future__ import annotations

import argparse
import http.client
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
from _soak_stack import PG, VAR, Receiver, Stack, request, rss_mib

MAKERS = {"sales": "demo-sales", "presales": "demo-presales"}
GATEKEEPERS = {"service": "demo-service", "delivery": "demo-delivery", "legal": "demo-legal"}
MANAGER = {"manager": "demo-manager"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the users --------------------------------------------------------------------------------------

class Load:
    def __init__(self, port: int, tokens: dict[str, str], categories: list[int], customers: list[int],
                 deadline: float):
        self.port = port
        self.tokens = tokens
        self.categories = categories
        self.customers = customers
        self.deadline = deadline
        self.statuses: Counter[str] = Counter()
        self.by_operation: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def call(self, conn_box: list, user: str, operation: str, method: str, path: str, body: dict | None = None):
        try:
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            status, data = request(method, self.port, path, token=self.tokens[user], body=body, conn=conn_box[0])
            key = str(status)
        except (OSError, http.client.HTTPException) as exc:
            conn_box[0].close()
            conn_box[0] = None
            status, data, key = 0, None, f"connection error ({type(exc).__name__})"
        with self.lock:
            self.statuses[key] += 1
            self.by_operation[(operation, key)] += 1
        return status, data

    def run(self, user: str, role: str, seed: int) -> None:
        rnd = random.Random(seed)
        conn_box: list = [None]
        step = {"maker": self.maker_step, "gatekeeper": self.gatekeeper_step, "manager": self.manager_step}[role]
        while time.monotonic() < self.deadline:
            step(conn_box, user, rnd)
            time.sleep(rnd.uniform(0.2, 0.6))
        if conn_box[0] is not None:
            conn_box[0].close()

    def maker_step(self, conn_box, user, rnd) -> None:
        roll = rnd.random()
        if roll < 0.35:
            category = rnd.choice(self.categories)
            status, promise = self.call(conn_box, user, "create", "POST", "/api/promises/", {
                "title": f"Soak promise {rnd.randrange(10**6)}", "category": category,
                "customer": rnd.choice(self.customers), "origin_department": user, "channel": "contract",
                "metric": "response time", "comparison": "lte", "target_value": "4", "unit": "h",
                "due_date": "2027-12-31"})
            if status == 201 and promise:
                _, record = self.call(conn_box, user, "record", "GET", f"/api/categories/{category}/record/")
                guidance = [g["id"] for g in (record or {}).get("guidance", [])] if isinstance(record, dict) else []
                self.call(conn_box, user, "submit", "POST", f"/api/promises/{promise['id']}/submit/",
                          {"comment": "Please confirm", "acknowledged_guidance_ids": guidance})
            return
        # move one of my promises on
        state, action, body = rnd.choice([
            ("approved", "commit", {"comment": "Signed"}),
            ("committed", "handover", {"comment": "Over to delivery"}),
            ("in_delivery", "verify", {"actual_value": rnd.choice(["3.5", "3.9", "5"]), "reason": "measured"}),
            ("fulfilled", "close", {"comment": "Done"}),
            ("broken", "close", {"comment": "Done"}),
            ("rework", "resubmit", {"comment": "Reworked"}),
        ])
        status, page = self.call(conn_box, user, f"list {state}", "GET",
                                 f"/api/promises/?state={state}&page_size=5&ordering=-id")
        results = page.get("results", []) if isinstance(page, dict) else []
        if status == 200 and results:
            promise = rnd.choice(results)
            self.call(conn_box, user, action, "POST", f"/api/promises/{promise['id']}/{action}/", body)

    def gatekeeper_step(self, conn_box, user, rnd) -> None:
        status, page = self.call(conn_box, user, "list gates", "GET", "/api/gates/?state=open&page_size=10")
        results = page.get("results", []) if isinstance(page, dict) else []
        if status != 200 or not results:
            return
        gate = rnd.choice(results)
        status, detail = self.call(conn_box, user, "gate detail", "GET", f"/api/gates/{gate['id']}/")
        if status != 200 or not isinstance(detail, dict):
            return
        decision = rnd.choices(["go", "recycle", "hold", "kill"], weights=[85, 8, 2, 5])[0]
        body = {"decision": decision, "comment": f"Soak {decision}",
                "checks": [{"check": c["id"], "result": "met"} for c in detail.get("checks", [])]}
        self.call(conn_box, user, f"decide {decision}", "POST", f"/api/gates/{gate['id']}/decide/", body)

    def manager_step(self, conn_box, user, rnd) -> None:
        if rnd.random() < 0.6:
            self.call(conn_box, user, "feedback", "POST", "/api/feedback/", {
                "kind": rnd.choice(["complaint", "praise", "suggestion"]), "channel": rnd.choice(["phone", "email"]),
                "severity": rnd.choice(["low", "medium", "high"]), "category": rnd.choice(self.categories),
                "customer": rnd.choice(self.customers), "text": "Soak feedback"})
        else:
            self.call(conn_box, user, "list gates", "GET", "/api/gates/?page_size=20")


# --- figures ----------------------------------------------------------------------------------------

def outbox_figures(database: str, *, after_event: int) -> dict:
    with psycopg.connect(f"{PG}/{database}") as conn:
        events = conn.execute("SELECT count(*) FILTER (WHERE fanned_out_at IS NULL), count(*) "
                              "FROM notifications_outboxevent WHERE id > %s", [after_event]).fetchone()
        rows = conn.execute("SELECT d.channel, d.state, d.key FROM notifications_delivery d "
                            "WHERE d.event_id > %s", [after_event]).fetchall()
    return {"events_pending": events[0], "events": events[1], "deliveries": rows}


def email_keys(mail_dir: Path) -> Counter[str]:
    keys: Counter[str] = Counter()
    for path in mail_dir.glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("X-SQG-Delivery:"):
                keys[line.split(":", 1)[1].strip()] += 1
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--database", default="sqg_soak")
    parser.add_argument("--outage-seconds", type=float, default=60)
    parser.add_argument("--drain-minutes", type=float, default=6, help="at most this long for the outbox to drain")
    args = parser.parse_args()

    VAR.mkdir(parents=True, exist_ok=True)
    for old in list(VAR.glob("*.log")) + list((VAR / "mail").glob("*.log")):
        old.unlink()
    stack = Stack(port=args.port, redis_port=args.redis_port, database=args.database)
    log(f"preparing database {args.database} (migrate, seed_demo)")
    stack.prepare_database()
    receiver = Receiver()
    samples: list[tuple[float, int, str, dict]] = []
    memory: dict[str, dict[str, float | None]] = {}
    events: list[str] = []
    try:
        stack.start()
        log(f"stack up: gunicorn :{args.port}, redis :{args.redis_port}, worker pid {stack.worker.pid}, "
            f"beat pid {stack.beat.pid}")
        tokens = {}
        for username, password in {**MAKERS, **GATEKEEPERS, **MANAGER}.items():
            status, data = request("POST", args.port, "/api/auth/token/",
                                   body={"username": username, "password": password})
            assert status in (200, 201), (username, status, data)
            tokens[username] = data["token"]
            status, data = request("POST", args.port, "/api/webhooks/", token=tokens[username],
                                   body={"name": "soak receiver", "url": receiver.url})
            assert status == 201, (username, status, data)
        _, categories = request("GET", args.port, "/api/categories/?page_size=100", token=tokens["sales"])
        _, customers = request("GET", args.port, "/api/customers/?page_size=100", token=tokens["sales"])
        with psycopg.connect(f"{PG}/{args.database}") as conn:
            baseline = conn.execute("SELECT coalesce(max(id), 0) FROM notifications_outboxevent").fetchone()[0]

        started = time.monotonic()
        duration = args.minutes * 60
        load = Load(args.port, tokens, [c["id"] for c in categories["results"]],
                    [c["id"] for c in customers["results"] if c.get("email")] or [customers["results"][0]["id"]],
                    deadline=started + duration)
        users = ([(u, "maker") for u in MAKERS] * 2 + [(u, "gatekeeper") for u in GATEKEEPERS]
                 + [(u, "manager") for u in MANAGER])
        threads = [threading.Thread(target=load.run, args=(u, role, n), daemon=True)
                   for n, (u, role) in enumerate(users)]
        for thread in threads:
            thread.start()
        log(f"load: {len(threads)} users for {args.minutes:g} min")

        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.is_set():
                try:
                    status, body = request("GET", args.port, "/health/")
                    samples.append((time.monotonic() - started, status, (body or {}).get("status", "?"),
                                    (body or {}).get("outbox", {})))
                except OSError as exc:
                    samples.append((time.monotonic() - started, 0, type(exc).__name__, {}))
                stop_sampling.wait(20)

        threading.Thread(target=sample, daemon=True).start()
        time.sleep(min(15, duration * 0.05))
        memory["start"] = {name: rss_mib(pid) for name, pid in stack.processes().items()}

        def at(fraction: float) -> None:
            time.sleep(max(0.0, started + duration * fraction - time.monotonic()))

        at(0.30)
        outage = min(args.outage_seconds, duration * 0.25)
        stack.redis.stop()
        events.append(f"{time.monotonic() - started:6.0f} s  Redis stopped for {outage:.0f} s")
        log(events[-1].strip())
        time.sleep(outage)
        stack.redis.start()
        events.append(f"{time.monotonic() - started:6.0f} s  Redis started again (empty)")
        log(events[-1].strip())
        at(0.65)
        stack.kill_worker()
        events.append(f"{time.monotonic() - started:6.0f} s  worker and pool SIGKILLed")
        log(events[-1].strip())
        time.sleep(5)
        stack.start_worker()
        events.append(f"{time.monotonic() - started:6.0f} s  worker started again (pid {stack.worker.pid})")
        log(events[-1].strip())
        for thread in threads:
            thread.join()
        log("load finished; waiting for the outbox to drain")
        drain_deadline = time.monotonic() + args.drain_minutes * 60
        while time.monotonic() < drain_deadline:
            figures = outbox_figures(args.database, after_event=baseline)
            if figures["events_pending"] == 0 and all(state in ("sent", "failed") for _, state, _ in figures["deliveries"]):
                break
            time.sleep(5)
        time.sleep(5)  # a late duplicate would arrive now
        events.append(f"{time.monotonic() - started:6.0f} s  drained (or gave up)")
        stop_sampling.set()
        memory["end"] = {name: rss_mib(pid) for name, pid in stack.processes().items()}
        worker_alive = stack.worker.poll() is None
    finally:
        stack.stop()
        receiver.server.shutdown()

    return report(load, samples, memory, events, outbox_figures(args.database, after_event=baseline),
                  email_keys(stack.mail_dir), receiver.keys, worker_alive)


def report(load, samples, memory, events, figures, emails, webhooks, worker_alive) -> int:
    print("\n=== soak: faults ===")
    for line in events:
        print(line)
    print("\n=== requests by status ===")
    total = sum(load.statuses.values())
    for key, count in sorted(load.statuses.items()):
        print(f"{key:>28}: {count}")
    print(f"{'total':>28}: {total}")
    server_errors = sum(c for k, c in load.statuses.items() if k.isdigit() and int(k) >= 500)
    print("\nby operation:")
    for (operation, key), count in sorted(load.by_operation.items()):
        print(f"  {operation:<22} {key:>6}: {count}")

    print("\n=== notifications (events of the soak) ===")
    rows = figures["deliveries"]
    states = Counter((channel, state) for channel, state, _ in rows)
    print(f"events: {figures['events']}, not fanned out at the end: {figures['events_pending']}")
    lost_total = duplicated_total = 0
    for channel, received in (("email", emails), ("webhook", webhooks), ("inbox", None)):
        expected = {key for ch, state, key in rows if ch == channel}
        if received is None:  # the inbox is this database: a sent row is a delivered item
            delivered = {key for ch, state, key in rows if ch == channel and state == "sent"}
            duplicated = 0
        else:
            delivered = expected & set(received)
            duplicated = sum(received[key] - 1 for key in expected if received[key] > 1)
        lost = len(expected - delivered)
        lost_total += lost
        duplicated_total += duplicated
        failed = states.get((channel, "failed"), 0)
        print(f"{channel:>8}: expected {len(expected)}, delivered {len(delivered)}, duplicated {duplicated}, "
              f"lost {lost} (rows failed for good: {failed})")

    print("\n=== outbox backlog over time (from /health/) ===")
    print(f"{'t (s)':>7} {'http':>5} {'status':>9} {'events':>7} {'deliveries':>11} {'oldest (s)':>11}")
    for t, status, text, outbox in samples:
        print(f"{t:7.0f} {status:>5} {text:>9} {outbox.get('pending_events', '-')!s:>7} "
              f"{outbox.get('pending_deliveries', '-')!s:>11} {outbox.get('oldest_pending_age_seconds', '-')!s:>11}")

    print("\n=== resident memory (MiB) ===")
    names = sorted(set(memory.get("start", {})) | set(memory.get("end", {})))
    for name in names:
        start, end = memory.get("start", {}).get(name), memory.get("end", {}).get(name)
        growth = f"{end - start:+.1f}" if start is not None and end is not None else "n/a"
        print(f"{name:>20}: start {start if start is None else round(start, 1)!s:>7}  "
              f"end {end if end is None else round(end, 1)!s:>7}  growth {growth}")
    print("(the worker was SIGKILLed and restarted: its start figure is the first worker's, its end the second's)")

    print(f"\nresponses >= 500: {server_errors}; lost: {lost_total}; duplicated: {duplicated_total}; "
          f"worker alive at the end: {worker_alive}")
    return 0 if server_errors == 0 and lost_total == 0 and duplicated_total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
