"""Working time: gate time limits count in the owning team's working days, hours and public holidays,
and the clock stops while the promise is on hold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from core import roles
from qualitygates import services as gs
from qualitygates.models import CalendarClosure, GateReview, ReviewState
from qualitygates.selectors import team_calendar
from qualitygates.working_time import Calendar, add_working_time, working_seconds_between
from tests.factories import WorkingCalendarFactory, all_checks_met
from tests.gate_flow import berlin, decide, open_review, submitted

HOUR = 3600
NATIONWIDE = Calendar()  # Europe/Berlin, Monday to Friday 08:00-17:00, German nationwide holidays
BAVARIA = Calendar(holiday_subdivision="BY")
NRW = Calendar(holiday_subdivision="NW")
BERLIN_STATE = Calendar(holiday_subdivision="BE")


# --- pure arithmetic ------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "hours", "due"), [
    (berlin(2027, 1, 11, 9, 0), 4, berlin(2027, 1, 11, 13, 0)),     # within the day
    (berlin(2027, 1, 11, 15, 0), 4, berlin(2027, 1, 12, 10, 0)),    # over the evening
    (berlin(2027, 1, 11, 6, 30), 1, berlin(2027, 1, 11, 9, 0)),     # before opening hours
    (berlin(2027, 1, 11, 19, 0), 1, berlin(2027, 1, 12, 9, 0)),     # after closing time
    (berlin(2027, 1, 11, 8, 0), 9, berlin(2027, 1, 11, 17, 0)),     # exactly one working day
    (berlin(2027, 1, 11, 8, 0), 16, berlin(2027, 1, 12, 15, 0)),    # the default 16 h limit
])
def test_working_hours_on_ordinary_weekdays(start, hours, due):
    assert add_working_time(start, hours * HOUR, NATIONWIDE) == due
    assert working_seconds_between(start, due, NATIONWIDE) == hours * HOUR


def test_the_weekend_does_not_count():
    friday = berlin(2027, 1, 15, 15, 0)

    due = add_working_time(friday, 4 * HOUR, NATIONWIDE)

    assert due == berlin(2027, 1, 18, 10, 0)  # Monday
    assert working_seconds_between(friday, due, NATIONWIDE) == 4 * HOUR
    assert working_seconds_between(berlin(2027, 1, 16, 0, 0), berlin(2027, 1, 18, 0, 0), NATIONWIDE) == 0


def test_a_start_at_the_weekend_waits_for_monday_morning():
    saturday = berlin(2027, 1, 16, 12, 0)
    assert add_working_time(saturday, 0, NATIONWIDE) == berlin(2027, 1, 18, 8, 0)
    assert add_working_time(saturday, HOUR, NATIONWIDE) == berlin(2027, 1, 18, 9, 0)


def test_epiphany_is_a_holiday_in_bavaria_but_not_in_north_rhine_westphalia():
    # Tuesday 5 January 2027, 16:00; Wednesday 6 January is Epiphany
    tuesday = berlin(2027, 1, 5, 16, 0)

    assert add_working_time(tuesday, 2 * HOUR, BAVARIA) == berlin(2027, 1, 7, 9, 0)
    assert add_working_time(tuesday, 2 * HOUR, NRW) == berlin(2027, 1, 6, 9, 0)
    assert working_seconds_between(tuesday, berlin(2027, 1, 7, 9, 0), BAVARIA) == 2 * HOUR
    assert working_seconds_between(tuesday, berlin(2027, 1, 7, 9, 0), NRW) == 11 * HOUR


def test_corpus_christi_counts_in_bavaria_and_nrw_but_not_in_berlin():
    # Wednesday 26 May 2027, 16:00; Thursday 27 May is Corpus Christi
    wednesday = berlin(2027, 5, 26, 16, 0)

    assert add_working_time(wednesday, 2 * HOUR, BAVARIA) == berlin(2027, 5, 28, 9, 0)
    assert add_working_time(wednesday, 2 * HOUR, NRW) == berlin(2027, 5, 28, 9, 0)
    assert add_working_time(wednesday, 2 * HOUR, BERLIN_STATE) == berlin(2027, 5, 27, 9, 0)


def test_a_nationwide_holiday_and_the_weekend_together():
    # Thursday 23 December 2027 16:00: Friday 24th is a working day, the 25th/26th fall on the weekend;
    # Friday 31st is a working day, 1 January 2028 a Saturday.
    assert add_working_time(berlin(2027, 12, 23, 16, 0), 2 * HOUR, NATIONWIDE) == berlin(2027, 12, 24, 9, 0)
    # Good Friday 26 March and Easter Monday 29 March 2027
    assert add_working_time(berlin(2027, 3, 25, 16, 0), 2 * HOUR, NATIONWIDE) == berlin(2027, 3, 30, 9, 0)


def test_a_team_closure_is_not_working_time():
    closed = Calendar(closures=frozenset({dt.date(2027, 1, 12)}))
    assert add_working_time(berlin(2027, 1, 11, 16, 0), 2 * HOUR, closed) == berlin(2027, 1, 13, 9, 0)


def test_without_a_holiday_country_only_weekdays_and_hours_count():
    no_holidays = Calendar(holiday_country="")
    assert add_working_time(berlin(2027, 1, 5, 16, 0), 2 * HOUR, BAVARIA) == berlin(2027, 1, 7, 9, 0)
    assert add_working_time(berlin(2027, 1, 5, 16, 0), 2 * HOUR, no_holidays) == berlin(2027, 1, 6, 9, 0)


def test_a_weekend_with_the_change_to_summer_time():
    # Summer time starts on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2
    friday = berlin(2026, 3, 27, 16, 0)

    due = add_working_time(friday, 2 * HOUR, NATIONWIDE)

    assert due == berlin(2026, 3, 30, 9, 0)
    assert due.utcoffset() == dt.timedelta(hours=2)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)
    assert working_seconds_between(friday, due, NATIONWIDE) == 2 * HOUR


@pytest.mark.parametrize(("day", "real_hours"), [
    (dt.date(2026, 3, 29), 22),   # the clock jumps from 02:00 to 03:00: one hour less
    (dt.date(2026, 10, 25), 24),  # 03:00 falls back to 02:00: one hour more
    (dt.date(2026, 6, 14), 23),
])
def test_a_working_window_across_a_daylight_saving_change_counts_real_hours(day, real_hours):
    # A round-the-clock team works every day from 00:00 to 23:00 wall time
    around_the_clock = Calendar(working_days=frozenset(range(7)), day_starts=dt.time(0, 0),
                                day_ends=dt.time(23, 0), holiday_country="")
    opens, closes = berlin(day.year, day.month, day.day, 0, 0), berlin(day.year, day.month, day.day, 23, 0)

    assert working_seconds_between(opens, closes, around_the_clock) == real_hours * HOUR
    assert add_working_time(opens, real_hours * HOUR, around_the_clock) == closes
    assert add_working_time(opens, (real_hours + 1) * HOUR, around_the_clock) == opens + dt.timedelta(days=1, hours=1)


def test_the_calendar_of_another_time_zone():
    lisbon = Calendar(time_zone="Europe/Lisbon", holiday_country="PT")
    # 16:00 in Berlin is 15:00 in Lisbon: two hours of Lisbon working time are left on that day
    due = add_working_time(berlin(2027, 1, 11, 16, 0), 2 * HOUR, lisbon)
    assert due == berlin(2027, 1, 11, 18, 0)
    assert str(due.tzinfo) == "Europe/Lisbon"


def test_time_between_runs_backwards_as_a_negative_amount():
    start, end = berlin(2027, 1, 15, 15, 0), berlin(2027, 1, 18, 10, 0)
    assert working_seconds_between(end, start, NATIONWIDE) == -4 * HOUR
    assert working_seconds_between(start, start, NATIONWIDE) == 0


def test_a_naive_start_and_a_calendar_without_working_days_are_errors():
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(dt.datetime(2027, 1, 11, 9, 0), HOUR, NATIONWIDE)
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(berlin(2027, 1, 11, 9, 0), HOUR, Calendar(working_days=frozenset()))


# --- the team calendar from the database --------------------------------------------------------------

@pytest.mark.django_db
def test_team_calendar_reads_the_teams_calendar_and_closures():
    team = Group.objects.create(name="hotline")
    calendar = WorkingCalendarFactory(team=team, holiday_subdivision="BY", working_days="0,1,2,3,4,5",
                                      day_starts=dt.time(7, 0), day_ends=dt.time(19, 0))
    CalendarClosure.objects.create(calendar=calendar, date=dt.date(2027, 1, 11), name="Works outing")

    loaded = team_calendar(team.pk)

    assert loaded.working_days == frozenset({0, 1, 2, 3, 4, 5})
    assert (loaded.day_starts, loaded.day_ends, loaded.holiday_subdivision) == (dt.time(7), dt.time(19), "BY")
    assert loaded.closures == frozenset({dt.date(2027, 1, 11)})
    # Saturday 9 January counts for this team; Monday 11th is the outing
    assert add_working_time(berlin(2027, 1, 8, 18, 0), 2 * HOUR, loaded) == berlin(2027, 1, 9, 8, 0)
    assert add_working_time(berlin(2027, 1, 9, 18, 0), 2 * HOUR, loaded) == berlin(2027, 1, 12, 8, 0)


@pytest.mark.django_db
def test_a_team_without_a_calendar_works_the_default_hours():
    team = Group.objects.create(name="no-calendar")
    assert team_calendar(team.pk) == Calendar()


# --- due_at of a gate, through the engine ---------------------------------------------------------------

@pytest.fixture
def service_in_bavaria(db):
    team = Group.objects.get_or_create(name=roles.SERVICE)[0]
    return WorkingCalendarFactory(team=team, holiday_country="DE", holiday_subdivision="BY")


@pytest.mark.django_db
def test_due_at_of_the_first_gate_skips_a_public_holiday_of_the_teams_state(
        clock, service_in_bavaria, make_promise, seller):
    # Given the service team works in Bavaria and the promise is submitted on Tuesday 5 January, 15:00
    clock.set(berlin(2027, 1, 5, 15, 0))

    promise = submitted(make_promise, seller)

    # Then its 16 working hours run Tue 2 h, (Epiphany), Thu 9 h, Fri 5 h
    review = open_review(promise)
    assert (review.name, review.decision_hours) == ("Feasibility", 16)
    assert review.opened_at == berlin(2027, 1, 5, 15, 0)
    assert review.due_at == berlin(2027, 1, 8, 13, 0)


@pytest.mark.django_db
def test_due_at_in_a_state_without_that_holiday(clock, service_in_bavaria, make_promise, seller):
    service_in_bavaria.holiday_subdivision = "NW"
    service_in_bavaria.save()
    clock.set(berlin(2027, 1, 5, 15, 0))

    promise = submitted(make_promise, seller)

    assert open_review(promise).due_at == berlin(2027, 1, 7, 13, 0)


@pytest.mark.django_db
def test_due_at_across_a_weekend_for_the_next_gate(clock, make_promise, seller, service_user):
    # The legal team has no calendar of its own: nationwide holidays, 08:00-17:00
    clock.set(berlin(2027, 1, 8, 14, 0))  # Friday
    promise = submitted(make_promise, seller)

    clock.set(berlin(2027, 1, 8, 16, 30))
    review = open_review(promise)
    gs.gate_decide(review_id=review.pk, user=service_user, decision="go", checks=all_checks_met(review))

    legal = open_review(promise)
    assert legal.name == "Legal check"
    # Fri 0.5 h, Mon 9 h, Tue 6.5 h
    assert legal.due_at == berlin(2027, 1, 12, 14, 30)


@pytest.mark.django_db
def test_the_clock_stops_while_the_gate_is_on_hold(clock, make_promise, seller, service_user, service_user2):
    # Given a gate opened on Monday 11 January at 09:00, due Tuesday 16:00 (16 working hours)
    clock.set(berlin(2027, 1, 11, 9, 0))
    promise = submitted(make_promise, seller)
    review = open_review(promise)
    assert review.due_at == berlin(2027, 1, 12, 16, 0)

    # When it is put on hold after 4 working hours
    clock.set(berlin(2027, 1, 11, 13, 0))
    decide(promise, service_user, "hold", comment="Waiting for the capacity plan")
    review.refresh_from_db()
    assert review.state == ReviewState.ON_HOLD
    assert review.remaining_seconds_at_hold == 12 * HOUR
    assert review.hold_started_at == berlin(2027, 1, 11, 13, 0)

    # and resumed three days later
    clock.set(berlin(2027, 1, 14, 10, 0))
    gs.gate_resume(review_id=review.pk, user=service_user2, comment="Plan arrived")

    # Then the 12 remaining hours run from the resume: Thu 7 h, Fri 5 h
    review.refresh_from_db()
    assert review.state == ReviewState.OPEN
    assert review.due_at == berlin(2027, 1, 15, 13, 0)
    assert (review.hold_started_at, review.remaining_seconds_at_hold) == (None, None)
    assert review.opened_at == berlin(2027, 1, 11, 9, 0)


@pytest.mark.django_db
def test_a_gate_held_after_its_due_time_resumes_with_no_time_left(
        clock, make_promise, seller, service_user, service_user2):
    clock.set(berlin(2027, 1, 11, 9, 0))
    promise = submitted(make_promise, seller)

    clock.set(berlin(2027, 1, 13, 9, 0))  # a day past due
    decide(promise, service_user, "hold", comment="Escalated to the region")
    held = GateReview.objects.get(promise=promise, state=ReviewState.ON_HOLD)
    assert held.remaining_seconds_at_hold == 0

    clock.set(berlin(2027, 1, 16, 11, 0))  # resumed on a Saturday
    gs.gate_resume(review_id=held.pk, user=service_user2)

    held.refresh_from_db()
    assert held.due_at == berlin(2027, 1, 18, 8, 0)
