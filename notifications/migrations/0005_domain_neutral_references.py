"""The outbox stops pointing into the domain apps' tables.

OutboxEvent.promise / gate_review and InboxItem.promise become a `subject` reference ("promise:12")
plus the gate review's id in the payload; each event gets the recipients and the payload its
messages show, which the domain apps now write themselves. Existing rows keep their data: the
references are copied, the payload is completed from the promise and gate as they are now, and
events not yet fanned out get the recipients the old fan-out would have chosen. CustomerNotice
moves to the promises app (promises/migrations/0004), its table kept.
"""

from django.db import migrations, models

MANAGERS = "managers"
PROMISE_MAKER_TEAMS = ["sales", "marketing", "presales"]
TEAM_KINDS = {"gate_opened", "gate_due_soon", "gate_overdue", "gate_resumed"}
OWNER_KINDS = {"gate_decided", "condition_lapsed", "promise_submitted", "promise_approved", "promise_on_hold",
               "promise_resumed", "promise_rework", "promise_withdrawn", "promise_committed",
               "promise_in_delivery", "promise_fulfilled", "promise_closed"}
OWNER_AND_MANAGER_KINDS = {"promise_rejected", "promise_broken"}
MANAGER_KINDS = {"gate_escalated", "weekly_digest", "feedback_received", "improvement_proposed",
                 "improvement_changed", "early_warning", "gate_escape_flagged"}
DECISION_LABELS = {"go": "Go", "kill": "Kill", "hold": "Hold", "recycle": "Recycle"}


def _recipients(event, promise, review) -> dict:
    data = {"user_ids": [], "team_ids": [], "group_names": [], "exclude_actor": True}
    kind = event.kind
    if kind in TEAM_KINDS and review is not None:
        data["team_ids"] = [review.owning_team_id]
    elif kind in OWNER_KINDS and promise is not None:
        data["user_ids"] = [promise.owner_id]
    elif kind in OWNER_AND_MANAGER_KINDS and promise is not None:
        data["user_ids"], data["group_names"] = [promise.owner_id], [MANAGERS]
    elif kind in MANAGER_KINDS:
        data["group_names"] = [MANAGERS]
    elif kind == "guidance_published":
        data["group_names"] = PROMISE_MAKER_TEAMS
    elif kind == "interim_notice_due" and promise is not None and promise.customer_id:
        c = promise.customer
        data["customer"] = {"key": f"customer:{c.pk}", "email": c.email, "language": c.language}
    return data


def _payload(event, promise, review) -> dict:
    payload = dict(event.payload or {})
    if promise is not None:
        commitment = (f"{promise.metric} {promise.get_comparison_display()} "
                      f"{promise.target_value.normalize():f} {promise.unit}")
        payload = {"title": promise.title, "commitment": commitment,
                   "promise": {"id": promise.pk, "title": promise.title, "state": promise.state},
                   "link": f"/admin/promises/servicepromise/{promise.pk}/change/", **payload}
        if event.kind == "interim_notice_due" and promise.customer_id:
            payload.update(customer_name=promise.customer.name, customer_link=f"/status/{promise.status_token}/")
    if review is not None:
        payload.setdefault("gate", review.name)
        payload["gate_review"] = {"id": review.pk, "name": review.name, "state": review.state,
                                  "due_at": review.due_at.isoformat() if review.due_at else None}
    if payload.get("decision") in DECISION_LABELS:
        payload["decision_label"] = DECISION_LABELS[payload["decision"]]
    return payload


def copy_references(apps, schema_editor):
    OutboxEvent = apps.get_model("notifications", "OutboxEvent")
    InboxItem = apps.get_model("notifications", "InboxItem")
    batch = []
    events = (OutboxEvent.objects.select_related("promise", "promise__customer", "gate_review")
              .order_by("pk"))
    for event in events.iterator(chunk_size=500):
        promise, review = event.promise, event.gate_review
        event.subject = f"promise:{promise.pk}" if promise is not None else ""
        event.payload = _payload(event, promise, review)
        if event.fanned_out_at is None:
            event.recipients = _recipients(event, promise, review)
        batch.append(event)
        if len(batch) >= 500:
            OutboxEvent.objects.bulk_update(batch, ["subject", "payload", "recipients"])
            batch = []
    OutboxEvent.objects.bulk_update(batch, ["subject", "payload", "recipients"])
    items = []
    for item in InboxItem.objects.filter(promise__isnull=False).only("pk", "promise_id").iterator(chunk_size=500):
        item.subject = f"promise:{item.promise_id}"
        items.append(item)
    InboxItem.objects.bulk_update(items, ["subject"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0004_outbox_delivery"),
        ("promises", "0003_promise_verified_at_index"),
        ("qualitygates", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxevent",
            name="subject",
            field=models.CharField(blank=True, db_index=True, max_length=80),
        ),
        migrations.AddField(
            model_name="outboxevent",
            name="recipients",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="inboxitem",
            name="subject",
            field=models.CharField(blank=True, max_length=80),
        ),
        migrations.RunPython(copy_references, migrations.RunPython.noop),
        migrations.RemoveField(model_name="outboxevent", name="gate_review"),
        migrations.RemoveField(model_name="outboxevent", name="promise"),
        migrations.RemoveField(model_name="inboxitem", name="promise"),
        # The table stays; promises/migrations/0004 takes the model over.
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="CustomerNotice")]),
    ]
