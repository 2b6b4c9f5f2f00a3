"""Bulk import of feedback from CSV: all rows or none, each bad row reported with its line number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from core.errors import NotAllowed, ValidationFailed
from feedback.models import Feedback
from feedback.services.importing import feedback_import_csv
from notifications.models import EventKind, OutboxEvent
from tests.factories import CategoryFactory, CustomerFactory, UserFactory

HEADER = "kind,channel,text,promise,category,customer,severity,csat,nps,received_at,external_reference\n"


@pytest.fixture
def good_csv(category, make_promise):
    CustomerFactory(name="Stadtwerke Nord", crm_reference="CRM-7")
    promise = make_promise()
    return promise, (
        HEADER
        + "complaint,phone,Techniker kam zu spät,,on-site-service,CRM-7,high,2,,2026-03-01,T-1001\n"
        + f"praise,survey,\"Schnell, freundlich\",{promise.pk},,,low,5,9,2026-03-02T10:00:00+01:00,S-55\n"
        + "\n"
        + "suggestion,email,Bitte SMS vor Ankunft,,On-site service,Stadtwerke Nord,,,,,\n"
    ).encode("utf-8")


def test_a_good_file_imports_every_row(good_csv, service_user, category, django_assert_max_num_queries):
    promise, content = good_csv
    with django_assert_max_num_queries(10):
        result = feedback_import_csv(user=service_user, content=content)
    assert result.imported == 3 and result.errors == []
    rows = list(Feedback.objects.order_by("received_at").values_list(
        "kind", "category__slug", "customer__crm_reference", "csat_score", "nps_score", "promise", "source",
        "external_reference"))
    assert rows[0] == ("complaint", "on-site-service", "CRM-7", 2, None, None, "import", "T-1001")
    assert rows[1] == ("praise", "on-site-service", promise.customer.crm_reference, 5, 9, promise.pk, "import",
                       "S-55")
    assert rows[2][:3] == ("suggestion", "on-site-service", "CRM-7")
    assert Feedback.objects.get(kind="praise").text == "Schnell, freundlich"
    event = OutboxEvent.objects.get(kind=EventKind.FEEDBACK_RECEIVED)
    assert event.payload == {"import": True, "count": 3, "categories": [category.pk],
                             "link": "/dashboard/"}


def test_bad_rows_import_nothing_and_are_each_reported(category, service_user):
    content = (
        HEADER
        + "complaint,phone,ok row,,on-site-service,,,,,,\n"
        + "rant,phone,bad kind,,on-site-service,,,,,,\n"
        + "complaint,phone,bad score,,on-site-service,,,7,,,\n"
        + "complaint,phone,unknown category,,no-such-category,,,,,,\n"
        + "complaint,phone,unknown promise,99999,,,,,,,\n"
        + "complaint,phone,nps too high,,on-site-service,,,,11,,\n"
        + "complaint,phone,\"multi\nline\",,on-site-service,,,,,not-a-date,\n"
    ).encode()
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(user=service_user, content=content)
    assert exc.value.code == "invalid_rows"
    assert "6 of 7 rows are invalid; nothing was imported" in exc.value.message
    assert {line: reason.split(":")[0] for line, reason in exc.value.fields.items()} == {
        "line 3": "kind", "line 4": "csat", "line 5": "category", "line 6": "promise", "line 7": "nps",
        "line 9": "received_at"}
    assert exc.value.fields["line 3"] == 'kind: "rant" is not a valid choice.'
    assert exc.value.fields["line 4"] == "csat: Ensure this value is less than or equal to 5."
    assert exc.value.fields["line 5"] == "category: unknown category 'no-such-category'"
    assert exc.value.fields["line 6"] == "promise: Promise 99999 does not exist."
    assert not Feedback.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_a_bad_encoding_is_refused(category, service_user):
    content = (HEADER + "complaint,phone,Techniker kam zu spät,,on-site-service,,,,,,\n").encode("latin-1")
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(user=service_user, content=content)
    assert exc.value.code == "bad_encoding"
    assert "not UTF-8" in exc.value.message and "line 2" in exc.value.message
    assert not Feedback.objects.exists()


def test_a_missing_column_is_refused(category, service_user):
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(user=service_user, content=b"kind,text,category\ncomplaint,x,on-site-service\n")
    assert exc.value.code == "missing_columns" and "channel" in exc.value.message
    with pytest.raises(ValidationFailed, match="promise or a category"):
        feedback_import_csv(user=service_user, content=b"kind,channel,text\ncomplaint,phone,x\n")
    with pytest.raises(ValidationFailed, match="no data rows"):
        feedback_import_csv(user=service_user, content=HEADER.encode())
    assert not Feedback.objects.exists()


def test_semicolon_exports_are_understood(category, service_user):
    content = "kind;channel;text;category\ncomplaint;phone;zu spät, wieder;on-site-service\n".encode()
    assert feedback_import_csv(user=service_user, content=content).imported == 1


def test_import_needs_a_team_member(db):
    with pytest.raises(NotAllowed):
        feedback_import_csv(user=UserFactory(username="anon"), content=HEADER.encode())


def test_the_management_command(tmp_path, good_csv, service_user, capsys):
    _, content = good_csv
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    call_command("import_feedback", str(path), "--user", service_user.username, "--dry-run")
    assert not Feedback.objects.exists()
    call_command("import_feedback", str(path), "--user", service_user.username)
    assert "imported 3 feedback rows" in capsys.readouterr().out
    assert Feedback.objects.count() == 3

    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER.encode() + b"rant,phone,x,,on-site-service,,,,,,\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_feedback", str(bad), "--user", service_user.username)
    assert 'line 2: kind: "rant" is not a valid choice.' in capsys.readouterr().err
    assert Feedback.objects.count() == 3


def test_each_row_is_checked_by_the_api_serializer_and_the_record_rules(category, service_user, make_promise):
    """The same bad value is reported in the same words by the import and by the API's serializer; a row
    the serializer accepts still meets the rules of feedback_record (here: a promise of another category)."""
    from feedback.serializers import FeedbackWriteSerializer

    other = make_promise()
    CategoryFactory(name="Hotline", slug="hotline")
    content = (
        HEADER
        + "complaint,phone,x,,on-site-service,,severe,,,,\n"
        + f"complaint,phone,x,{other.pk},hotline,,,,,,\n"
        + "complaint,phone,,,on-site-service,,,,,,\n"
        + "complaint,phone,x,,on-site-service,,,,,2999-01-01,\n"
    ).encode()
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(user=service_user, content=content)
    api = FeedbackWriteSerializer(data={"kind": "complaint", "channel": "phone", "category": category.pk,
                                        "severity": "severe"})
    assert not api.is_valid()
    assert exc.value.fields["line 2"] == f"severity: {api.errors['severity'][0]}"
    assert exc.value.fields["line 3"].startswith("category: Promise ")
    assert exc.value.fields["line 4"] == "text: Feedback needs a text or a score."
    assert exc.value.fields["line 5"].startswith("received_at: ")
    assert not Feedback.objects.exists()


def test_ambiguous_and_unknown_customers_are_row_errors(category, service_user):
    CustomerFactory(name="Stadtwerke", crm_reference="CRM-1")
    CustomerFactory(name="Other", crm_reference="Stadtwerke")
    content = (HEADER + "complaint,phone,x,,on-site-service,Stadtwerke,,,,,\n"
               + "complaint,phone,x,,on-site-service,Nobody,,,,,\n").encode()
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(user=service_user, content=content)
    assert exc.value.fields == {"line 2": "customer: customer 'Stadtwerke' is ambiguous",
                                "line 3": "customer: unknown customer 'Nobody'"}


def test_an_explicit_clock_dates_rows_without_received_at(category, service_user):
    now = dt.datetime(2026, 4, 1, 8, 0, tzinfo=dt.UTC)
    content = (HEADER + "complaint,phone,x,,on-site-service,,,,,,\n").encode()
    assert feedback_import_csv(user=service_user, content=content, now=now).imported == 1
    assert Feedback.objects.get().received_at == now
