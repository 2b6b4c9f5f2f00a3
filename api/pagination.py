"""Page-number pagination whose count stays cheap on big lists.

Counting every visible row on each request grows with the history (a million promises: about a
second). The planner's estimate of the list's rows is free: up to `EXACT_COUNT_LIMIT` rows the list is
counted exactly as before (the count stops at the limit, so it costs at most that many index entries);
beyond it `count` is the estimate and `count_is_estimate` says so. Pages
are then cut without the count (one row more is read to know whether a next page exists), so every
page stays reachable whatever the estimate says. Same answer shape as before, one key more.
"""

from __future__ import annotations

from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# Lists up to this long are counted exactly (a count of up to ten thousand index entries takes a few
# milliseconds).
EXACT_COUNT_LIMIT = 10_000


def planner_row_estimate(queryset) -> int | None:
    """The number of rows PostgreSQL expects `queryset` to return (EXPLAIN, nothing executed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatingPage(Page):
    """A page cut without the total: it knows whether more follow from the one extra row it read."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1


class EstimatingPaginator(DjangoPaginator):
    @cached_property
    def _counted(self) -> tuple[int, bool]:
        """(count, is it an estimate): counted exactly up to the limit (one statement, as before), the
        planner's estimate beyond it (one statement more, only for the long lists)."""
        if not hasattr(self.object_list, "query"):
            return super().count, False
        capped = self.object_list.order_by()[:EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped, False
        estimate = planner_row_estimate(self.object_list)
        return max(estimate or 0, capped), True

    @property
    def count_is_estimate(self) -> bool:
        return self._counted[1]

    @property
    def estimated(self) -> bool:
        return self._counted[1]

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    def validate_number(self, number):
        if not self.estimated:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        if not self.estimated:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return EstimatingPage(rows[:self.per_page], number, self, more=len(rows) > self.per_page)


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100
    django_paginator_class = EstimatingPaginator

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_is_estimate": self.page.paginator.count_is_estimate,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_estimate"] = {
            "type": "boolean", "example": False,
            "description": "True when `count` is the database's estimate (a list of more than "
                           f"{EXACT_COUNT_LIMIT} rows), not an exact count.",
        }
        schema["required"] = [*schema.get("required", []), "count_is_estimate"]
        return schema
