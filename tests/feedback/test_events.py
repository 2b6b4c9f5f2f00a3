"""Who hears of a feedback-loop event (feedback/events.py)."""

from __future__ import annotations

from django.db import transaction

from core import roles
from feedback.events import feedback_event_record
from notifications.models import EventKind
from notifications.recipients import Recipients


def test_guidance_reaches_the_promise_makers_and_the_rest_the_managers(make_promise, seller):
    promise = make_promise()
    with transaction.atomic():
        guidance, _ = feedback_event_record(kind=EventKind.GUIDANCE_PUBLISHED, payload={"text": "Ask first"})
        feedback, _ = feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, promise=promise, actor=seller,
                                            payload={"feedback": 1})
    assert Recipients.from_json(guidance.recipients) == Recipients(group_names=roles.PROMISE_MAKER_TEAMS)
    assert guidance.subject == "" and guidance.payload == {"text": "Ask first", "link": "/promises/new/"}
    assert Recipients.from_json(feedback.recipients) == Recipients(group_names=(roles.MANAGERS,))
    assert feedback.subject == f"promise:{promise.pk}" and feedback.payload["title"] == promise.title
    assert feedback.payload["link"] == f"/promises/{promise.pk}/"


def test_each_feedback_loop_event_links_to_the_page_where_its_work_is_done(db):
    with transaction.atomic():
        improvement, _ = feedback_event_record(kind=EventKind.EARLY_WARNING, payload={"improvement": 7})
        guidance, _ = feedback_event_record(kind=EventKind.GUIDANCE_PUBLISHED,
                                            payload={"text": "Ask first", "category": 3, "improvement": 7})
        digest, _ = feedback_event_record(kind=EventKind.WEEKLY_DIGEST, key="digest", payload={"week_ending": "x"})
        loose, _ = feedback_event_record(kind=EventKind.FEEDBACK_RECEIVED, payload={"feedback": 1})
    assert improvement.payload["link"] == "/kvp/7/"
    assert guidance.payload["link"] == "/promises/new/?category=3"
    assert digest.payload["link"] == loose.payload["link"] == "/dashboard/"
