"""A realistic data set for the read benchmarks, at a given scale, loaded with COPY.

    createdb -h 127.0.0.1 -U postgres sqg_bench_20k
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sqg_bench_20k .venv/bin/python bench/generate.py --scale 0.02

At `--scale 1`: 1,000,000 promises made over three years in 20 categories (plans of four gates:
two approval gates, one delivery gate, one closure gate, three criteria each), ~4 gate reviews per
submitted promise with their checks, the promise's trail (hash-chained exactly as
`promises/trail_chain.py` computes it, so `manage.py verify_trail` passes), 300,000 feedback rows
and 2,000 improvement items. The database is migrated first and must hold no promise yet.

States follow the demo's lifecycle: old promises are mostly closed or verified (about 84 % kept,
varying by category), some rejected, withdrawn or on hold; the last two months hold the running
ones (drafts, in review, rework, approved, committed, in delivery) with their open gates.

The bulk load runs with `session_replication_role = replica`: foreign keys are not checked row by
row (the generator writes consistent ids) and no trigger fires. The trail's append-only triggers
fire on UPDATE and DELETE only, so they are not bypassed for anything a COPY does. Afterwards the
summary tables are filled from the raw rows (`manage.py kvp_summaries --fix`) when that command
exists, and the tables are analysed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# DEBUG off (no query log) and no secrets needed: the read paths run as in production.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

YEARS = 3
CATEGORIES = 20
GATEKEEPER_TEAMS = ["service", "delivery", "legal", "finance", "operations"]
REASONS = ["Technician unavailable in the region", "Spare part not in stock", "Supplier delayed the delivery",
           "Customer not on site", "Estimate too optimistic", "Carrier postponed the pick-up",
           "Hotline understaffed at night", "Migration script failed on legacy data"]
FEEDBACK_CHANNELS = ["phone", "email", "chat", "social_media", "survey", "field_service", "status_page", "letter"]
FEEDBACK_KINDS = ["complaint", "praise", "suggestion", "broken_promise", "fulfilment_outcome"]
DEPARTMENTS = ["sales", "marketing", "presales"]
CHANNELS = ["offer", "contract", "campaign", "call", "web", "email", "meeting"]

# States of promises older than two months (verified ones split by the category's keep rate) and
# of the running ones of the last two months: the demo's lifecycle, in proportions a busy year has.
SETTLED = [("closed", 70), ("fulfilled", 8), ("broken", 2), ("rejected", 8), ("withdrawn", 5),
           ("on_hold", 1), ("in_delivery", 6)]
RUNNING = [("draft", 10), ("in_review", 24), ("rework", 6), ("approved", 8), ("committed", 12),
           ("in_delivery", 26), ("fulfilled", 5), ("broken", 1), ("on_hold", 3), ("rejected", 3), ("withdrawn", 2)]


def pick(rng: random.Random, table):
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for value, weight in table:
        x -= weight
        if x <= 0:
            return value
    return table[-1][0]


def ts(value: dt.datetime) -> str:
    return value.isoformat(timespec="microseconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.02, help="1 = a million promises")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-summaries", action="store_true", help="leave the summary tables empty")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    from promises.models import ServicePromise

    if ServicePromise.objects.exists():
        sys.exit("The database already holds promises: generate into an empty, migrated database.")
    rng = random.Random(args.seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ref = reference_data(rng)
    print(f"reference data: {time.perf_counter() - started:.1f} s", flush=True)
    n_promises = int(1_000_000 * args.scale)
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        cursor.execute("SET session_replication_role = replica")
        blank_defaults = text_columns_without_default(cursor)
        for table, column in blank_defaults:
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT \'\'')
        counts = load(cursor, rng, ref, now, n_promises=n_promises, n_feedback=int(300_000 * args.scale),
                      n_items=max(20, int(2_000 * args.scale)))
        cursor.execute("SET session_replication_role = DEFAULT")
        for table, column in blank_defaults:
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')
        reset_sequences(cursor)
    print(f"loaded {counts} in {time.perf_counter() - started:.1f} s", flush=True)
    from django.core.management import get_commands

    if not args.no_summaries and "kvp_summaries" in get_commands():
        t = time.perf_counter()
        call_command("kvp_summaries", "--fix", "--quiet")
        print(f"summaries filled in {time.perf_counter() - t:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)


def text_columns_without_default(cursor) -> list[tuple[str, str]]:
    """Required text columns without a database default (a translation added after this generator was
    written, say): the COPY column lists leave them out, so they get '' for the load, as a blank form would."""
    cursor.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                   "AND is_nullable = 'NO' AND column_default IS NULL AND data_type IN ('text', 'character varying') "
                   "AND table_name IN ('promises_servicepromise', 'qualitygates_gatereview', 'qualitygates_gatecheck', "
                   "'promises_transitionlog', 'feedback_feedback', 'feedback_improvementitem')")
    return cursor.fetchall()


def reference_data(rng: random.Random) -> dict:
    """Teams, people, customers, metrics, categories and their gate plans: small, through the ORM."""
    from django.contrib.auth.models import Group, User

    from promises.models import Customer, Metric, PromiseCategory
    from qualitygates.models import GateCriterion, GateDefinition, GatePlan

    groups = {name: Group.objects.get_or_create(name=name)[0]
              for name in [*DEPARTMENTS, *GATEKEEPER_TEAMS, "managers", "operators"]}
    users = {}
    for team, n in [("sales", 20), ("marketing", 6), ("presales", 8), *[(t, 4) for t in GATEKEEPER_TEAMS],
                    ("managers", 3)]:
        users[team] = []
        for i in range(n):
            user = User.objects.create(username=f"bench-{team}-{i}", is_active=True)
            user.groups.add(groups[team])
            users[team].append(user.pk)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i:05d} GmbH", email=f"c{i}@example.com", crm_reference=f"CRM-{i:05d}")
         for i in range(5000)])
    metrics = [Metric.objects.create(name=name, unit=unit, direction="lower", kind=kind)
               for name, unit, kind in [("response time", "h", "working_hours"),
                                        ("lead time", "working days", "calendar_days"),
                                        ("answer time", "s", "count"), ("resolution time", "h", "working_hours")]]
    categories = []
    for c in range(CATEGORIES):
        category = PromiseCategory.objects.create(name=f"Category {c:02d}", slug=f"category-{c:02d}")
        metric = metrics[c % len(metrics)]
        metric.categories.add(category)
        plan = GatePlan.objects.create(category=category, name=f"Plan {c:02d}")
        gates = []
        for order, (name, step, team) in enumerate([
            ("Feasibility", "approval", GATEKEEPER_TEAMS[c % 3]),
            ("Legal and price", "approval", "legal" if c % 2 else "finance"),
            ("Delivery readiness", "delivery", "delivery"),
            ("Fulfilment verified", "closure", "operations" if c % 2 else "service"),
        ], start=1):
            definition = GateDefinition.objects.create(plan=plan, order=order, name=name, step=step,
                                                       owning_team=groups[team], decision_hours=16)
            criteria = [GateCriterion.objects.create(definition=definition, order=k, text=f"{name}: criterion {k}",
                                                     requirement="must" if k < 3 else "should")
                        for k in range(1, 4)]
            gates.append({"id": definition.pk, "order": order, "name": name, "step": step,
                          "team": groups[team].pk, "criteria": [(cr.pk, cr.text, cr.requirement) for cr in criteria]})
        categories.append({"id": category.pk, "metric": metric.pk, "plan": plan.pk, "gates": gates,
                           "keep": rng.uniform(0.72, 0.95), "target": rng.choice([4, 8, 10, 24, 60])})
    return {"users": users, "customers": [c.pk for c in customers], "categories": categories}


def bulk_connection():
    """A psycopg connection of its own to the same database, foreign keys and triggers off (see above)."""
    import psycopg
    from django.db import connection

    conn = psycopg.connect(**connection.get_connection_params())
    conn.execute("SET session_replication_role = replica")
    return conn


class Ids:
    def __init__(self, cursor, table: str):
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        self.next = cursor.fetchone()[0] + 1

    def take(self) -> int:
        value, self.next = self.next, self.next + 1
        return value


# The gates' states, and whether each opened and was decided, by the promise's state.
def gate_states(state: str, rng: random.Random) -> list[str] | None:
    if state == "draft" or (state == "withdrawn" and rng.random() < 0.4):
        return None  # never submitted: no gates laid out
    return {
        "in_review": ["open", "pending", "pending", "pending"] if rng.random() < 0.6
        else ["passed", "open", "pending", "pending"],
        "rework": ["recycled", "cancelled", "cancelled", "cancelled"],
        "rejected": ["failed", "cancelled", "cancelled", "cancelled"] if rng.random() < 0.7
        else ["passed", "failed", "cancelled", "cancelled"],
        "withdrawn": ["cancelled"] * 4,
        "on_hold": ["on_hold", "pending", "pending", "pending"],
        "approved": ["passed", "passed", "pending", "pending"],
        "committed": ["passed", "passed", "pending", "pending"],
        "in_delivery": ["passed", "passed", "open", "pending"] if rng.random() < 0.3
        else ["passed", "passed", "passed", "pending"],
        "fulfilled": ["passed", "passed", "passed", "open"],
        "broken": ["passed", "passed", "passed", "open"],
        "closed": ["passed", "passed", "passed", "passed"],
    }[state]


PROMISE_PATH = {  # the promise's own trail rows up to its state (gate rows are interleaved by time)
    "draft": [], "in_review": [("submit", "draft", "in_review")],
    "rework": [("submit", "draft", "in_review"), ("send_to_rework", "in_review", "rework")],
    "rejected": [("submit", "draft", "in_review"), ("reject", "in_review", "rejected")],
    "on_hold": [("submit", "draft", "in_review"), ("hold", "in_review", "on_hold")],
    "approved": [("submit", "draft", "in_review"), ("approve", "in_review", "approved")],
    "committed": [("submit", "draft", "in_review"), ("approve", "in_review", "approved"),
                  ("commit", "approved", "committed")],
    "in_delivery": [("submit", "draft", "in_review"), ("approve", "in_review", "approved"),
                    ("commit", "approved", "committed"), ("start_delivery", "committed", "in_delivery")],
}
PROMISE_PATH["withdrawn"] = [("submit", "draft", "in_review"), ("withdraw", "in_review", "withdrawn")]
PROMISE_PATH["fulfilled"] = [*PROMISE_PATH["in_delivery"], ("verify", "in_delivery", "fulfilled")]
PROMISE_PATH["broken"] = [*PROMISE_PATH["in_delivery"], ("verify", "in_delivery", "broken")]
PROMISE_PATH["closed"] = [*PROMISE_PATH["fulfilled"], ("close", "fulfilled", "closed")]


def load(cursor, rng: random.Random, ref: dict, now: dt.datetime, *, n_promises: int, n_feedback: int,
         n_items: int) -> dict:
    from promises.trail_chain import GENESIS, chain_hash

    promise_ids, review_ids, check_ids, trail_ids = (Ids(cursor, t) for t in (
        "promises_servicepromise", "qualitygates_gatereview", "qualitygates_gatecheck", "promises_transitionlog"))
    makers = ref["users"]["sales"] + ref["users"]["marketing"] + ref["users"]["presales"]
    deciders = {}
    for team_name in GATEKEEPER_TEAMS:
        deciders[team_name] = ref["users"][team_name]
    from django.contrib.auth.models import Group

    team_users = {g.pk: deciders.get(g.name, makers) for g in Group.objects.all()}
    span = dt.timedelta(days=365 * YEARS)
    verified: list[tuple[int, int, dt.datetime]] = []  # (promise, category, verified_at) for feedback
    counts = {"promises": 0, "reviews": 0, "checks": 0, "trail": 0}
    promise_cols = ("id, title, description, customer_segment, origin_department, channel, comparison, target_value,"
                    " due_date, crm_reference, deal_value, state, state_before_hold, rework_rounds, actual_value,"
                    " outcome_reason, verified_at, status_token, customer_visible_at, created_at, updated_at,"
                    " category_id, customer_id, gate_plan_id, owner_id, metric_id")
    review_cols = ('id, round, "order", name, step, decision_hours, state, opened_at, due_at, hold_started_at,'
                   " remaining_seconds_at_hold, decision, decided_at, comment, decided_by_id, definition_id,"
                   " owning_team_id, promise_id, evidence, name_de")
    check_cols = 'id, "order", text, requirement, weight, result, note, criterion_id, review_id, evidence_min_share, kind, prefilled_result, text_de'
    trail_cols = "id, subject, action, from_state, to_state, comment, at, actor_id, gate_review_id, promise_id, chain_hash"
    decisions = {"passed": "go", "failed": "kill", "on_hold": "hold", "recycled": "recycle"}
    # Created times spread over the span, in order, so ids follow time as they do in production.
    created = sorted(now - span + dt.timedelta(seconds=rng.uniform(0, span.total_seconds())) for _ in range(n_promises))
    # One connection per table: a connection runs one COPY at a time, and the four are written together.
    streams = [bulk_connection() for _ in range(4)]
    with (streams[0].cursor().copy(f"COPY promises_servicepromise ({promise_cols}) FROM STDIN") as pc,
          streams[1].cursor().copy(f"COPY qualitygates_gatereview ({review_cols}) FROM STDIN") as rc,
          streams[2].cursor().copy(f"COPY qualitygates_gatecheck ({check_cols}) FROM STDIN") as cc,
          streams[3].cursor().copy(f"COPY promises_transitionlog ({trail_cols}) FROM STDIN") as tc):
        for created_at in created:
            created_at = created_at.replace(microsecond=0)
            category = rng.choice(ref["categories"])
            age = (now - created_at).days
            state = pick(rng, SETTLED if age > 60 else RUNNING)
            if state in ("closed", "fulfilled", "broken") and age > 60:
                kept = rng.random() < category["keep"]
                state = ("closed" if state == "closed" else ("fulfilled" if kept else "broken"))
            else:
                kept = state == "fulfilled" or (state == "closed" and rng.random() < category["keep"])
            pid = promise_ids.take()
            owner = rng.choice(makers)
            target = category["target"]
            clock = created_at + dt.timedelta(hours=rng.uniform(0.5, 30))  # submitted
            trail = []  # (subject, action, from, to, at, actor, review id)
            gates = gate_states(state, rng)
            submitted = gates is not None
            if submitted:
                trail.append(("promise", "submit", "draft", "in_review", clock, owner, None))
            review_rows = []
            for gate, g_state in zip(category["gates"], gates or [], strict=False):
                rid = review_ids.take()
                opened = decided = due = None
                decider = None
                if g_state in ("open", "passed", "failed", "on_hold", "recycled"):
                    opened = clock
                    due = opened + dt.timedelta(hours=rng.uniform(16, 60))
                    if g_state != "open":
                        decided = opened + dt.timedelta(minutes=rng.lognormvariate(6.3, 0.8))
                        decided = decided.replace(microsecond=0)
                        clock = decided + dt.timedelta(minutes=rng.uniform(1, 60))
                        decider = rng.choice(team_users[gate["team"]])
                        trail.append(("gate", decisions[g_state], "open", g_state, decided, decider, rid))
                    if gate["step"] == "approval" and g_state == "passed" and gate["order"] == 2:
                        trail.append(("promise", "approve", "in_review", "approved", decided, decider, rid))
                    if gate["step"] == "delivery" and g_state in ("passed", "open"):
                        pass
                review_rows.append((rid, gate, g_state, opened, due, decided, decider))
            # The promise's own moves after its approval gates (commit, hand-over, verify, close).
            path = PROMISE_PATH[state][1:] if submitted else (
                [("withdraw", "draft", "withdrawn")] if state == "withdrawn" else [])
            verified_at = None
            for action, before, after in path:
                if action in ("approve",):
                    continue  # written with the deciding gate above
                if action in ("send_to_rework", "reject", "hold"):
                    decided_row = next((r for r in review_rows if r[5] is not None and r[2] != "passed"), None)
                    at = decided_row[5] if decided_row else clock
                    trail.append(("promise", action, before, after, at, decided_row[6] if decided_row else owner,
                                  decided_row[0] if decided_row else None))
                    continue
                clock = clock + dt.timedelta(days=rng.uniform(0.5, 12))
                clock = min(clock, now - dt.timedelta(minutes=5))
                if action == "verify":
                    verified_at = clock
                if action == "close":
                    # The closure gate passed first, then the promise closed.
                    rid, gate, _g_state, _o, _d, _dec, _by = review_rows[3]
                    opened_4 = verified_at
                    decided_4 = min(opened_4 + dt.timedelta(minutes=rng.lognormvariate(6.3, 0.8)),
                                    now - dt.timedelta(minutes=1)).replace(microsecond=0)
                    decider_4 = rng.choice(team_users[gate["team"]])
                    review_rows[3] = (rid, gate, "passed", opened_4, opened_4 + dt.timedelta(hours=24), decided_4,
                                      decider_4)
                    trail.append(("gate", "go", "open", "passed", decided_4, decider_4, rid))
                    clock = decided_4
                trail.append(("promise", action, before, after, clock, owner, None))
            # Gates opened later than the approval ones start when their step starts (hand-over, verification).
            fixed = []
            for rid, gate, g_state, opened, due, decided, decider in review_rows:
                if gate["step"] == "delivery" and opened is not None:
                    start = next((t[4] for t in trail if t[1] == "start_delivery"), None)
                    if start is None and g_state == "open":
                        start = clock
                    if start is not None:
                        shift = start - opened
                        opened, due = opened + shift, due + shift
                        if decided is not None:
                            decided = decided + shift
                            trail = [(t[0], t[1], t[2], t[3], decided, t[5], t[6]) if t[6] == rid else t
                                     for t in trail]
                if gate["step"] == "closure" and g_state == "open" and verified_at is not None:
                    opened, due = verified_at, verified_at + dt.timedelta(hours=24)
                fixed.append((rid, gate, g_state, opened, due, decided, decider))
            if verified_at is not None:
                factor = 0.8 if kept else 1.4
                actual = round(target * factor * rng.uniform(0.6, 1.0), 3)
                if not kept and actual <= target:
                    actual = target + 1
                reason = "" if kept else rng.choice(REASONS)
                verified.append((pid, category["id"], verified_at, kept))
            else:
                actual, reason = None, ""
            trail.sort(key=lambda t: (t[4], 0 if t[0] == "gate" else 1))
            last = trail[-1][4] if trail else created_at
            pc.write_row((pid, f"Promise {pid}", "", "", rng.choice(DEPARTMENTS), rng.choice(CHANNELS), "lte",
                          target, (created_at + dt.timedelta(days=30)).date(), f"CRM-{pid}",
                          round(rng.uniform(1_000, 250_000), 2), state,
                          "in_review" if state == "on_hold" else "", 1 if state == "rework" else 0, actual, reason,
                          verified_at, None, last, created_at, last, category["id"],
                          rng.choice(ref["customers"]), category["plan"] if submitted else None, owner,
                          category["metric"]))
            for rid, gate, g_state, opened, due, decided, decider in fixed:
                decision = decisions.get(g_state, "")
                rc.write_row((rid, 1, gate["order"], gate["name"], gate["step"], 16, g_state, opened, due,
                              decided if g_state == "on_hold" else None, 3600 if g_state == "on_hold" else None,
                              decision, decided, "Checked" if decision else "", decider, gate["id"], gate["team"],
                              pid, None, ""))
                for k, (crit_id, text, requirement) in enumerate(gate["criteria"], start=1):
                    result = "met" if g_state == "passed" else ("not_met" if g_state in ("failed", "recycled")
                                                                 and k == 1 else "")
                    cc.write_row((check_ids.take(), k, text, requirement, 1, result, "", crit_id, rid, None,
                                  "manual", "", ""))
                    counts["checks"] += 1
                counts["reviews"] += 1
            previous = GENESIS
            for subject, action, before, after, at, actor, rid in trail:
                digest = chain_hash(previous, promise_id=pid, subject=subject, gate_review_id=rid, action=action,
                                    from_state=before, to_state=after, actor_id=actor, comment="", at=at)
                tc.write_row((trail_ids.take(), subject, action, before, after, "", at, actor, rid, pid, digest))
                previous = digest
                counts["trail"] += 1
            counts["promises"] += 1
    for stream in streams:
        stream.commit()
        stream.close()
    counts["feedback"] = load_feedback(cursor, rng, ref, now, verified, n_feedback)
    counts["improvements"] = load_improvements(cursor, rng, ref, now, n_items)
    return counts


def load_feedback(cursor, rng: random.Random, ref: dict, now: dt.datetime, verified: list, n: int) -> int:
    """Broken promises' outcomes (as the services record them), then the after-sales mix."""
    ids = Ids(cursor, "feedback_feedback")
    cols = ("id, channel, kind, severity, csat_score, nps_score, text, promised_value, actual_value, reason,"
            " kept_as_seen, source, external_reference, received_at, created_at, category_id, customer_id,"
            " promise_id, recorded_by_id")
    written = 0
    categories = [c["id"] for c in ref["categories"]]
    span = 365 * YEARS * 86400
    with cursor.copy(f"COPY feedback_feedback ({cols}) FROM STDIN") as fc:
        for pid, category_id, verified_at, kept in verified:
            if written >= n:
                break
            if not kept:
                fc.write_row((ids.take(), "system", "broken_promise", "high", None, None, "", "", None,
                              rng.choice(REASONS), None, "automatic", "", verified_at, verified_at, category_id,
                              None, pid, None))
                written += 1
        linkable = verified or [(None, categories[0], now, True)]
        while written < n:
            at = now - dt.timedelta(seconds=rng.uniform(0, span))
            kind = rng.choice(FEEDBACK_KINDS[:3] + ["fulfilment_outcome"])
            channel = rng.choice(FEEDBACK_CHANNELS)
            csat = rng.choice([1, 2, 3, 4, 4, 5, 5]) if rng.random() < 0.45 else None
            nps = rng.randint(0, 10) if rng.random() < 0.25 else None
            if rng.random() < 0.5:
                pid, category_id, _at, _kept = rng.choice(linkable)
            else:
                pid, category_id = None, rng.choice(categories)
            fc.write_row((ids.take(), channel, kind, rng.choice(["low", "medium", "high"]), csat, nps,
                          "Feedback text", "", None, "", None, "import", "", at, at, category_id,
                          rng.choice(ref["customers"]), pid, None))
            written += 1
    return written


def load_improvements(cursor, rng: random.Random, ref: dict, now: dt.datetime, n: int) -> int:
    ids, link_ids = Ids(cursor, "feedback_improvementitem"), Ids(cursor, "feedback_improvementitem_categories")
    cols = ("id, title, description, state, origin, priority, start_date, due_date, budget, measured_at, check_note,"
            " standardized_at, created_at, updated_at, origin_category_id, origin_definition_id, owner_id,"
            " proposed_by_id")
    states = [("proposed", 12), ("accepted", 6), ("planned", 8), ("in_progress", 10), ("checking", 6),
              ("standardized", 40), ("rejected", 12), ("abandoned", 6)]
    managers = ref["users"]["managers"]
    span = 365 * YEARS * 86400
    links = []
    with cursor.copy(f"COPY feedback_improvementitem ({cols}) FROM STDIN") as ic:
        for _ in range(n):
            iid = ids.take()
            state = pick(rng, states)
            created = now - dt.timedelta(seconds=rng.uniform(86400 * 30, span))
            planned = state in ("planned", "in_progress", "checking", "standardized")
            standardized = created + dt.timedelta(days=rng.uniform(20, 120)) if state == "standardized" else None
            if standardized and standardized > now:
                standardized = now - dt.timedelta(days=1)
            ic.write_row((iid, f"Improvement {iid}", "", state, "manual", "high" if planned else "",
                          created.date() if planned else None,
                          (created + dt.timedelta(days=150)).date() if planned else None,
                          5000 if planned else None, standardized, "", standardized, created,
                          standardized or created, None, None, rng.choice(managers) if planned else None,
                          rng.choice(managers)))
            for category in rng.sample(ref["categories"], rng.choice([1, 1, 2])):
                links.append((link_ids.take(), iid, category["id"]))
    with cursor.copy("COPY feedback_improvementitem_categories (id, improvementitem_id, promisecategory_id)"
                     " FROM STDIN") as lc:
        for row in links:
            lc.write_row(row)
    return n


def reset_sequences(cursor) -> None:
    for table in ("promises_servicepromise", "qualitygates_gatereview", "qualitygates_gatecheck",
                  "promises_transitionlog", "feedback_feedback", "feedback_improvementitem",
                  "feedback_improvementitem_categories"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


if __name__ == "__main__":
    main()
