"""Admin for the teams' working time: a team (a Django group) is edited with its working calendar and
company closures, which gate time limits count in. Plain reference data: no domain rule guards it."""

from __future__ import annotations

import nested_admin
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import CalendarClosure, WorkingCalendar


class ClosureInline(admin.TabularInline):
    model = CalendarClosure
    extra = 1


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin):
    list_display = ("team", "time_zone", "working_days", "day_starts", "day_ends", "holiday_country",
                    "holiday_subdivision", "closure_count")
    list_filter = ("holiday_country", "holiday_subdivision", "time_zone")
    list_select_related = ("team",)
    search_fields = ("team__name",)
    autocomplete_fields = ("team",)
    inlines = (ClosureInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_closures=Count("closures"))

    @admin.display(description=_("closures"), ordering="_closures")
    def closure_count(self, obj):
        return obj._closures


@admin.register(CalendarClosure)
class CalendarClosureAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "calendar")
    list_filter = ("calendar__team", "date")
    list_select_related = ("calendar__team",)
    search_fields = ("name", "calendar__team__name")
    date_hierarchy = "date"
    autocomplete_fields = ("calendar",)


class TeamClosureInline(nested_admin.NestedTabularInline):
    model = CalendarClosure
    extra = 0


class TeamCalendarInline(nested_admin.NestedStackedInline):
    model = WorkingCalendar
    extra = 0
    max_num = 1
    inlines = (TeamClosureInline,)


# Teams are Django groups: their working calendar (and its closures) is edited right on the team.
admin.site.unregister(Group)


@admin.register(Group)
class TeamAdmin(nested_admin.NestedModelAdmin, GroupAdmin):
    list_display = ("name", "member_count", "has_calendar")
    inlines = (TeamCalendarInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("working_calendar").annotate(
            _members=Count("user", distinct=True))

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj):
        return obj._members

    @admin.display(description=_("working calendar"), boolean=True)
    def has_calendar(self, obj):
        return hasattr(obj, "working_calendar")

