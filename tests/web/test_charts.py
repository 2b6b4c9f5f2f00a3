"""Server-drawn SVG charts: accessible, escaped, with gaps for missing values and a table of the figures."""

from __future__ import annotations

from web.charts import Bar, Series, bar_chart, count_axis_max, duration_axis_max, line_chart


def test_a_line_chart_is_an_accessible_image_with_tooltips_links_and_gaps():
    chart = line_chart(label="Keep rate", x_labels=["Jan", "Feb", "Mar"], first_column="Month",
                       series=[Series("All", [50.0, None, 75.0], href="/promises/?state=broken")],
                       fmt=lambda v: f"{v:.0f} %", y_min=0, y_max=100)
    svg = str(chart.svg)
    assert svg.startswith('<svg class="chart" role="img" aria-label="Keep rate"') and "<title>Keep rate</title>" in svg
    assert "<title>All · Jan: 50 %</title>" in svg and "<title>All · Mar: 75 %</title>" in svg
    assert svg.count("<circle") == 2 and "<polyline" not in svg  # a gap splits the line: no segment of two
    assert svg.count('<a href="/promises/?state=broken">') == 2
    assert chart.table_rows[1] == [("Month", "Feb", ""), ("All", "–", "")]


def test_names_from_the_data_are_escaped_in_the_svg():
    hostile = '<script>alert(1)</script>"'
    chart = bar_chart(label=hostile, bars=[Bar(hostile, [3.0], href='/gates/?team=1&x="')], series=[hostile],
                      fmt=str)
    svg = str(chart.svg)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'href="/gates/?team=1&amp;x=&quot;"' in svg


def test_stacked_bars_add_up_and_an_empty_chart_draws_nothing():
    chart = bar_chart(label="Feedback", bars=[Bar("Phone", [2.0, 3.0])], series=["Complaint", "Praise"],
                      fmt=lambda v: f"{v:.0f}", stacked=True)
    assert "<title>Phone · Praise: 3</title>" in str(chart.svg) and ">5</text>" in str(chart.svg)
    empty = bar_chart(label="Nothing", bars=[Bar("Phone", [0.0])], series=["Complaint"], fmt=str)
    assert empty.empty and str(empty.svg) == ""


def test_a_duration_axis_ends_on_whole_hours_or_days():
    assert duration_axis_max(3) == 4 and duration_axis_max(20) == 24 and duration_axis_max(49) == 96
    assert duration_axis_max(24 * 9) == 24 * 12


def test_a_count_axis_reads_in_whole_numbers():
    assert count_axis_max(1) == 4 and count_axis_max(5) == 8 and count_axis_max(17) == 20
