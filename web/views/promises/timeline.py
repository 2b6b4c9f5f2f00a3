"""The promise page's one timeline and its progress bar, built from what promise_page prefetched
(trail, gate reviews with checks and conditions, customer notices) and the promise's events: no
query of its own but the events'."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications.models import EventKind
from notifications.selectors import events_about
from promises.events import promise_subject
from promises.models import PromiseState, ServicePromise, TrailSubject
from promises.status_link import ISSUED, REISSUED, REVOKED
from qualitygates.models import Decision, GateStep, ReviewState

from .labels import state_label, team_label

S, R = PromiseState, ReviewState
DECISION_ACTIONS = {"go": Decision.GO, "kill": Decision.KILL, "hold": Decision.HOLD, "recycle": Decision.RECYCLE}
DECISION_TONES = {"go": "ok", "kill": "danger", "hold": "warn", "recycle": "warn"}


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # transition, decision, condition, link, notification, notice
    title: str
    text: str = ""
    actor: object = None
    tone: str = ""
    checks: list = field(default_factory=list)
    conditions: list = field(default_factory=list)


# The gate engine writes these comments into the trail as English prose (qualitygates/services.py); the
# trail is append-only, so they are translated when read. Anything else is a person's words: as written.
SYSTEM_COMMENTS = [
    (re.compile(r"^Recycled at gate (?P<gate>.+)$"), gettext_noop("Recycled at gate “%(gate)s”.")),
    (re.compile(r"^Promise rejected at gate (?P<gate>.+)$"), gettext_noop("Rejected at gate “%(gate)s”.")),
    (re.compile(r"^Verification recycled at (?P<gate>.+)$"), gettext_noop("Verification recycled at “%(gate)s”.")),
    (re.compile(r"^All gates of step '(?P<step>.+)' passed\.$"), gettext_noop("All gates of step “%(step)s” passed.")),
]


def _step_label(written: str) -> str:
    """A step's label as the trail wrote it (in the writer's language) in the reader's language."""
    for step in GateStep:
        for language in ("en", "de"):
            with translation.override(language):
                found = str(step.label) == written
            if found:
                return str(step.label)
    return written


def comment_text(comment: str) -> str:
    for pattern, message in SYSTEM_COMMENTS:
        match = pattern.match(comment or "")
        if match:
            values = match.groupdict()
            if "step" in values:
                values["step"] = _step_label(values["step"])
            return _(message) % values
    return comment


def _gate_title(review) -> str:
    return _("%(gate)s (%(team)s)") % {"gate": review.display_name, "team": team_label(review.owning_team.name)}


def _trail_entry(row, last_decision_row_ids: set[int], reviews: dict) -> Entry:
    # The prefetched review (with its team, checks and conditions), not the trail row's own copy.
    review = reviews.get(row.gate_review_id)
    if row.subject == TrailSubject.PROMISE:
        return Entry(row.at, "transition", _("%(from)s → %(to)s") % {
            "from": state_label(row.from_state), "to": state_label(row.to_state)},
            text=comment_text(row.comment), actor=row.actor)
    if row.subject == TrailSubject.CONDITION:
        titles = {"condition_met": _("Condition met"), "condition_lapsed": _("Condition lapsed"),
                  "condition_cancelled": _("Condition cancelled")}
        return Entry(row.at, "condition", titles.get(row.action, _("Condition: %(action)s") % {"action": row.action}),
                     text=comment_text(row.comment), actor=row.actor,
                     tone="danger" if row.action == "condition_lapsed" else "")
    if row.subject == TrailSubject.STATUS_LINK:
        titles = {ISSUED: _("Status link issued to the customer"), REVOKED: _("Status link revoked"),
                  REISSUED: _("New status link issued")}
        return Entry(row.at, "link", titles.get(row.action, row.action), text=row.comment, actor=row.actor)
    if row.action in DECISION_ACTIONS and review is not None:
        entry = Entry(row.at, "decision", _("%(gate)s: %(decision)s") % {
            "gate": _gate_title(review), "decision": DECISION_ACTIONS[row.action].label},
            text=row.comment or (review.comment if row.pk in last_decision_row_ids else ""), actor=row.actor,
            tone=DECISION_TONES[row.action])
        if row.pk in last_decision_row_ids:
            entry.checks = [c for c in review.checks.all() if c.result]
            entry.conditions = list(review.conditions.all()) if row.action == "go" else []
        return entry
    titles = {"open": _("%(gate)s opened"), "resume": _("%(gate)s resumed"), "cancel": _("%(gate)s cancelled")}
    title = titles.get(row.action, "%(gate)s: " + row.action)
    return Entry(row.at, "gate", title % {"gate": _gate_title(review) if review else "?"}, text=comment_text(row.comment),
                 actor=row.actor)


def _event_title(event, reviews: dict) -> str:
    try:
        label = EventKind(event.kind).label
    except ValueError:
        label = event.kind
    gate = (event.payload or {}).get("gate_review") or {}
    review = reviews.get(gate.get("id"))
    # The gate's name in the reader's language from the review (the payload keeps the English one).
    name = review.display_name if review is not None else gate.get("name")
    return f"{label}: {name}" if name else str(label)


def promise_timeline(promise: ServicePromise) -> list[Entry]:
    """Transitions, gate decisions with their checks and conditions, notifications and customer
    notices of the promise, oldest first, as far as the reader may see them."""
    trail = list(promise.trail.all())
    decisions = {}
    for row in trail:
        if row.action in DECISION_ACTIONS and row.gate_review_id:
            decisions[row.gate_review_id] = row.pk  # the last one wins: checks are the review's final ones
    reviews = {review.pk: review for review in promise.gate_reviews.all()}
    entries = [Entry(promise.created_at, "transition", _("Recorded as a draft"), actor=promise.owner)]
    entries += [_trail_entry(row, set(decisions.values()), reviews) for row in trail]
    visible_reviews = set(reviews)
    for event in events_about(subject=promise_subject(promise)):
        gate = (event.payload or {}).get("gate_review") or {}
        if gate and gate.get("id") not in visible_reviews:
            continue  # about a gate of another team: not the reader's to see
        entries.append(Entry(event.created_at, "notification", _event_title(event, reviews), actor=event.actor))
    for notice in promise.customer_notices.all():
        entries.append(Entry(notice.created_at, "notice", _("%(kind)s sent to the customer") % {
            "kind": notice.get_kind_display()}))
    return sorted(entries, key=lambda e: e.at)


# --- progress -----------------------------------------------------------------------------------

@dataclass
class Step:
    label: str
    status: str = ""  # done, current, failed or "" (still to come)
    detail: str = ""
    review: object = None


STAGE = {S.DRAFT: 0, S.IN_REVIEW: 1, S.REWORK: 1, S.APPROVED: 2, S.COMMITTED: 3, S.IN_DELIVERY: 4,
         S.FULFILLED: 5, S.BROKEN: 5, S.CLOSED: 6}
REVIEW_STATUS = {R.PASSED: "done", R.OPEN: "current", R.ON_HOLD: "current", R.FAILED: "failed",
                 R.RECYCLED: "failed", R.PENDING: ""}


def _reached(promise: ServicePromise) -> int:
    state = promise.state
    if state == S.ON_HOLD:
        return STAGE.get(promise.state_before_hold, 1)
    if state in STAGE:
        return STAGE[state]
    # rejected or withdrawn: where it stood when it left the lifecycle
    left = [row for row in promise.trail.all() if row.subject == TrailSubject.PROMISE and row.to_state == state]
    return STAGE.get(left[-1].from_state, 0) if left else 0


def current_reviews(promise: ServicePromise) -> list:
    """The gates of the latest round (a cancelled one shows as still to come)."""
    reviews = list(promise.gate_reviews.all())
    latest = max((r.round for r in reviews if r.state != R.CANCELLED), default=0)
    return [r for r in reviews if r.round == latest]


def promise_progress(promise: ServicePromise) -> list[Step]:
    reached = _reached(promise)
    terminal = promise.state in (S.REJECTED, S.WITHDRAWN)
    reviews = current_reviews(promise)

    def main(stage: int, label: str) -> Step:
        status = "done" if reached > stage else ("current" if reached == stage and not terminal else "")
        if terminal and reached == stage:
            status = "failed"
        return Step(label, status)

    def gates(step: str) -> list[Step]:
        return [Step(r.display_name, REVIEW_STATUS.get(r.state, ""), team_label(r.owning_team.name), r)
                for r in reviews if r.step == step]

    verified = S.BROKEN if promise.state == S.BROKEN else S.FULFILLED
    steps = [main(0, state_label(S.DRAFT))]
    steps += gates(GateStep.APPROVAL) or [main(1, state_label(S.IN_REVIEW))]
    steps += [main(2, state_label(S.APPROVED)), main(3, state_label(S.COMMITTED))]
    steps += gates(GateStep.DELIVERY)
    steps += [main(4, state_label(S.IN_DELIVERY)), main(5, state_label(verified))]
    if promise.state == S.BROKEN:
        steps[-1].status = "failed"
    steps += gates(GateStep.CLOSURE)
    steps.append(main(6, state_label(S.CLOSED)))
    if terminal:
        steps.append(Step(state_label(promise.state), "failed"))
    if promise.state == S.ON_HOLD:
        for step in steps:
            if step.status == "current":
                step.detail = state_label(S.ON_HOLD)
    return steps


def next_review(promise: ServicePromise):
    """The gate that decides next: the open one (or the one on hold)."""
    for review in current_reviews(promise):
        if review.state in (R.OPEN, R.ON_HOLD):
            return review
    return None


def rework_reason(promise: ServicePromise) -> str:
    """Why the promise was sent back: the recycling gate's comment, or the trail's (a lapsed condition)."""
    rows = [row for row in promise.trail.all() if row.to_state == S.REWORK or row.action == "recycle"]
    for row in reversed(rows):
        if row.comment:
            return row.comment
    recycled = [r for r in promise.gate_reviews.all() if r.state == R.RECYCLED and r.comment]
    return recycled[-1].comment if recycled else ""
