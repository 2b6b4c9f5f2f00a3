import datetime as dt
from decimal import Decimal

from django.utils import translation

from web.templatetags.web_format import duration, hours, number


def test_a_target_shows_without_trailing_zeros_in_each_language():
    with translation.override("en"):
        assert number(Decimal("4.000")) == "4"
        assert number(Decimal("4.50")) == "4.5"
        assert number(Decimal("12500.00")) == "12,500"
    with translation.override("de"):
        assert number(Decimal("4.50")) == "4,5"
        assert number(Decimal("12500.00")) == "12.500"
    assert number(None) == "" and number("n/a") == "n/a"


def test_a_lead_time_reads_in_days_and_hours_not_as_a_timedelta():
    with translation.override("en"):
        assert duration(dt.timedelta(days=1, hours=3, minutes=30)) == "1 d 3 h"
        assert duration(dt.timedelta(hours=2, minutes=15)) == "2 h 15 min"
        assert duration(dt.timedelta(minutes=-90)) == "−1 h 30 min"
        assert duration(dt.timedelta(0)) == "0 min"
        assert hours(27) == "1 d 3 h"
    with translation.override("de"):
        assert duration(dt.timedelta(days=1, hours=3)) == "1 T. 3 Std."
        assert duration(dt.timedelta(minutes=45)) == "45 Min."
