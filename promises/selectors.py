"""Reads on service promises, and the read scope of the promise world.

Who sees what (README, "Who sees what"), in one place: the API, the admin, exports and every
other reader filter through `promise_visible_q`, `gate_review_visible_q`, `trail_visible_q` and
`customer_visible_q`.
- managers see every promise;
- a promise maker sees the promises they own, and those of their department (the promise's
  `origin_department` is one of the maker's groups sales / marketing / presales) once they are
  submitted: a draft is its owner's work in progress;
- a gatekeeper sees the promises that have (had) a gate review of one of their teams — from
  submission on, when the plan's gates are laid out, whether the review waits, is open or was
  decided — and of those promises only their own teams' gate reviews;
- anyone else (operators, users in no group, anonymous) sees none.
Aggregates that show no individual record (a category's record, the dashboard's figures) do
not use these: they are the organisation's shared lessons and count every promise."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from core.ids import as_id
from core.roles import is_manager, is_promise_maker, maker_departments, team_ids, team_names
from qualitygates.models import STEP_ORDER, GateCheck, GateDefinition, GatePlan, GateReview

from .models import (
    Customer,
    CustomerNotice,
    Metric,
    PromiseCategory,
    PromiseState,
    ServicePromise,
    TransitionLog,
)
from .outcomes import broken_q

# A condition no row meets; Django answers it without asking the database.
NOTHING = Q(pk__in=[])


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def promise_visible_q(user) -> Q:
    """The promises `user` may see, as a condition on ServicePromise."""
    if not _signed_in(user):
        return NOTHING
    if is_manager(user):
        return Q()
    visible = Q(owner_id=user.pk)
    departments = maker_departments(user)
    if departments:
        visible |= Q(origin_department__in=sorted(departments)) & ~Q(state=PromiseState.DRAFT)
    teams = team_ids(user)
    if teams:
        visible |= Q(Exists(GateReview.objects.filter(promise_id=OuterRef("pk"), owning_team_id__in=sorted(teams))))
    return visible


def gate_review_visible_q(user, *, prefix: str = "") -> Q:
    """The gate reviews `user` may see, as a condition on GateReview (or on a model reaching it
    through `prefix`, e.g. "gate_review__"): their teams' reviews; to a maker, every review of the
    promises in the maker's scope (the maker has to know why a gate sent it back)."""
    if not _signed_in(user):
        return NOTHING
    if is_manager(user):
        return Q()
    visible = Q(**{f"{prefix}owning_team_id__in": sorted(team_ids(user))}) if team_ids(user) else NOTHING
    visible |= Q(**{f"{prefix}promise__owner_id": user.pk})
    departments = maker_departments(user)
    if departments:
        visible |= Q(**{f"{prefix}promise__origin_department__in": sorted(departments)})
    return visible


def trail_visible_q(user) -> Q:
    """Of a visible promise's trail: the promise's own rows and those of the gates the user sees."""
    if is_manager(user):
        return Q()
    return Q(gate_review__isnull=True) | gate_review_visible_q(user, prefix="gate_review__")


def customer_visible_q(user) -> Q:
    """A customer's data is visible to whoever may see one of its promises. A customer nobody has
    promised anything yet is visible to every promise maker, so that one of them can make the first."""
    if not _signed_in(user):
        return NOTHING
    if is_manager(user):
        return Q()
    of_customer = ServicePromise.objects.filter(customer_id=OuterRef("pk"))
    visible = Q(Exists(of_customer.filter(promise_visible_q(user))))
    if is_promise_maker(user):
        visible |= ~Q(Exists(of_customer))
    return visible


def promise_list(*, user, state: str | None = None, category_id: int | None = None) -> QuerySet[ServicePromise]:
    qs = ServicePromise.objects.filter(promise_visible_q(user)).select_related("category", "customer", "owner", "metric")
    if state:
        qs = qs.filter(state=state)
    if category_id:
        qs = qs.filter(category_id=category_id)
    return qs


def promise_is_visible(*, user, promise_id: int) -> bool:
    return ServicePromise.objects.filter(promise_visible_q(user), pk=as_id(promise_id)).exists()


def promise_detail(*, user, promise_id: int) -> ServicePromise | None:
    """A promise with the gates, checks, conditions and trail `user` may see: a fixed number of
    queries. None when it does not exist or is outside the user's scope (the same answer)."""
    return (
        ServicePromise.objects.filter(promise_visible_q(user))
        .select_related("category", "customer", "owner", "gate_plan", "metric")
        .prefetch_related(
            Prefetch(
                "gate_reviews",
                queryset=GateReview.objects.filter(gate_review_visible_q(user))
                .select_related("owning_team", "decided_by")
                .prefetch_related(Prefetch("checks", queryset=GateCheck.objects.order_by("order", "id")),
                                  "conditions__owner")
                .order_by("round", "order", "id"),
            ),
            Prefetch("trail", queryset=TransitionLog.objects.filter(trail_visible_q(user))
                     .select_related("actor", "gate_review").order_by("at", "id")),
        )
        .filter(pk=as_id(promise_id))
        .first()
    )


def promise_by_status_token(*, token: str) -> ServicePromise | None:
    """The promise whose current status link this is; a revoked or unknown token finds nothing."""
    if not token:
        return None
    return ServicePromise.objects.select_related("category", "customer", "metric").filter(status_token=token).first()


def status_link_visible(*, user, promise: ServicePromise) -> bool:
    """Who is shown the customer's status link: the people who speak to the customer about the
    promise — its owner, their department (the promise's origin department) and the managers.
    Gatekeepers review the promise but do not hand out its link. No query: roles are cached."""
    if not user or not user.is_authenticated:
        return False
    return (promise.owner_id == user.pk or is_manager(user)
            or promise.origin_department in team_names(user))


def customer_list(*, user) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visible_q(user)).order_by("name", "id")


def category_list() -> QuerySet[PromiseCategory]:
    """Categories with their active catalogue metrics (as `active_metrics`): two queries for any number."""
    return PromiseCategory.objects.prefetch_related(
        Prefetch("metrics", queryset=Metric.objects.filter(is_active=True).order_by("name", "id"),
                 to_attr="active_metrics")).order_by("name", "id")



def promise_trail(*, user, promise_id: int) -> QuerySet[TransitionLog]:
    """The append-only trail of one promise and the gates the user sees, oldest first; empty when
    the promise is outside the user's scope."""
    return (TransitionLog.objects.filter(trail_visible_q(user), promise_id=as_id(promise_id),
                                         promise__in=ServicePromise.objects.filter(promise_visible_q(user)))
            .select_related("actor", "gate_review").order_by("at", "id"))


# --- the product's pages: the promise list, the category's gate plan, a promise's timeline ---------

# States in which a promise still has to be delivered: only these are "overdue" past their due date.
OPEN_STATES = [PromiseState.DRAFT, PromiseState.IN_REVIEW, PromiseState.REWORK, PromiseState.APPROVED,
               PromiseState.COMMITTED, PromiseState.IN_DELIVERY, PromiseState.ON_HOLD]
PROMISE_SORTS = {"created": ("-created_at", "-id"), "due": ("due_date", "id"), "title": ("title", "id")}
DUE_WINDOWS = ("overdue", "week", "later")
SEARCH_MAX = 100


def promise_browse(*, user, today, mine: bool = False, department: bool = False, state: str | None = None,
                   category_id: int | None = None, customer_id: int | None = None, due: str | None = None,
                   search: str = "", sort: str = "created") -> QuerySet[ServicePromise]:
    """The promise list of the pages: the user's scope narrowed by the filters, sorted. The caller
    slices it (a page and one row more, so no count over the table is needed)."""
    qs = promise_list(user=user, state=state, category_id=category_id)
    if mine:
        qs = qs.filter(owner_id=user.pk)
    if department:
        qs = qs.filter(origin_department__in=sorted(maker_departments(user)))
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if due in DUE_WINDOWS:
        week_end = today + dt.timedelta(days=6 - today.weekday())
        if due == "overdue":
            qs = qs.filter(due_date__lt=today, state__in=OPEN_STATES)
        elif due == "week":
            qs = qs.filter(due_date__gte=today, due_date__lte=week_end)
        else:
            qs = qs.filter(due_date__gt=week_end)
    search = (search or "").strip()[:SEARCH_MAX]
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(customer__name__icontains=search)
                       | Q(crm_reference__icontains=search))
    return qs.order_by(*PROMISE_SORTS.get(sort, PROMISE_SORTS["created"]))


def category_gate_plan(*, category_id: int) -> list:
    """The gates a promise of the category would go through if submitted now, in order, with their
    owning team: one query."""
    plan = GatePlan.objects.filter(category_id=category_id).order_by("-version").values_list("pk", flat=True)[:1]
    definitions = list(GateDefinition.objects.filter(plan_id__in=plan).select_related("owning_team"))
    return sorted(definitions, key=lambda d: (STEP_ORDER.index(d.step), d.order, d.id))


def promise_page(*, user, promise_id: int) -> ServicePromise | None:
    """promise_detail plus the customer notices the promise page's timeline shows: still a fixed
    number of queries."""
    promise = promise_detail(user=user, promise_id=promise_id)
    if promise is not None:
        prefetch_related_objects([promise], Prefetch("customer_notices",
                                                     queryset=CustomerNotice.objects.order_by("created_at", "id")))
    return promise
# --- my work (the home page) and the global search -----------------------------------------------

WORK_LIST_LIMIT = 10
# Where a promise asks nothing more of its maker: decided, verified or given up.
FINISHED_STATES = [PromiseState.FULFILLED, PromiseState.BROKEN, PromiseState.CLOSED, PromiseState.REJECTED,
                   PromiseState.WITHDRAWN]
SEARCH_MAX_LENGTH = 200


@dataclass(frozen=True)
class WorkList:
    """One list of the home page: how many there are, and the first few of them."""

    key: str
    count: int
    items: list


def _work_conditions(today: dt.date) -> dict[str, Q]:
    """What a promise needs from its owner, by list: each a condition on ServicePromise."""
    handover_under_way = Exists(GateReview.objects.filter(promise_id=OuterRef("pk"), step="delivery",
                                                          state__in=["open", "on_hold"]))
    # Most urgent first: a gate sent it back, its due date passed, then each next step; drafts last.
    return {
        "rework": Q(state=PromiseState.REWORK),
        "overdue": Q(due_date__lt=today) & ~Q(state__in=FINISHED_STATES),
        "approved": Q(state=PromiseState.APPROVED),
        "handover": Q(state=PromiseState.COMMITTED) & ~Q(handover_under_way),
        "verify": Q(state=PromiseState.IN_DELIVERY),
        "draft": Q(state=PromiseState.DRAFT),
    }


def promise_work_for_maker(*, user, now: dt.datetime | None = None,
                           limit: int = WORK_LIST_LIMIT) -> list[WorkList]:
    """The user's own promises that wait for them, by list (rework with the reason that sent it
    back, overdue, approved to commit, committed to hand over, in delivery to verify, drafts), each with
    its count and first `limit` promises, soonest due first. At most 8 queries, whatever the data."""
    today = timezone.localdate(now or timezone.now())
    mine = ServicePromise.objects.filter(promise_visible_q(user), owner_id=user.pk) if _signed_in(user) \
        else ServicePromise.objects.none()
    conditions = _work_conditions(today)
    counts = mine.aggregate(**{key: Count("pk", filter=condition) for key, condition in conditions.items()})
    lists = []
    for key, condition in conditions.items():
        items = []
        if counts[key]:
            items = list(mine.filter(condition).select_related("customer", "category")
                         .order_by("due_date", "id")[:limit])
        lists.append(WorkList(key=key, count=counts[key], items=items))
    _attach_rework_reasons([p for work in lists if work.key == "rework" for p in work.items])
    return lists


def _attach_rework_reasons(promises: list[ServicePromise]) -> None:
    """Each promise in rework gets `rework_reason` and `rework_gate`: the comment of the latest
    trail row that sent it back (a gate's recycle or a lapsed condition). One query."""
    if not promises:
        return
    latest: dict[int, TransitionLog] = {}
    for row in (TransitionLog.objects.filter(subject="promise", to_state=PromiseState.REWORK,
                                             promise_id__in=[p.pk for p in promises])
                .select_related("gate_review").order_by("promise_id", "-at", "-id")):
        latest.setdefault(row.promise_id, row)
    for promise in promises:
        row = latest.get(promise.pk)
        promise.rework_reason = row.comment if row else ""
        promise.rework_gate = row.gate_review.name if row and row.gate_review else ""


def promise_broken_this_month(*, user, now: dt.datetime | None = None,
                              limit: int = WORK_LIST_LIMIT) -> WorkList:
    """Promises the user may see that were verified as broken since the start of this month (local
    time), latest first. Two queries."""
    local = timezone.localtime(now or timezone.now())
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    qs = ServicePromise.objects.filter(promise_visible_q(user), broken_q(), verified_at__gte=month_start)
    count = qs.count()
    items = list(qs.select_related("customer", "category", "owner").order_by("-verified_at", "-id")[:limit]) \
        if count else []
    return WorkList(key="broken", count=count, items=items)


class SearchQueryRefused(ValueError):
    """The search text cannot be searched for; the message says why, in the user's language."""


def search_text(raw: str | None) -> str:
    """The search text as it is searched for, or SearchQueryRefused naming the rule."""
    text = " ".join((raw or "").split())
    if not text:
        raise SearchQueryRefused(_("Type a word to search for: a promise's title, its customer or its CRM "
                                   "reference."))
    if "\x00" in text:
        raise SearchQueryRefused(_("The search text contains a character that cannot be searched for."))
    if len(text) > SEARCH_MAX_LENGTH:
        raise SearchQueryRefused(_("The search text is too long: at most %(max)d characters.")
                                 % {"max": SEARCH_MAX_LENGTH})
    return text


def promise_search(*, user, text: str) -> QuerySet[ServicePromise]:
    """The promises the user may see whose title, customer name or CRM reference (the promise's or
    the customer's) contains `text` (already checked by `search_text`), newest first."""
    matches = (Q(title__icontains=text) | Q(customer__name__icontains=text) | Q(crm_reference__icontains=text)
               | Q(customer__crm_reference__icontains=text) | Q(customer_segment__icontains=text))
    number = text.removeprefix("#")
    if number.isdecimal() and len(number) < 10:  # isdigit() takes "²", which int() refuses
        matches |= Q(pk=int(number))
    return (ServicePromise.objects.filter(promise_visible_q(user)).filter(matches)
            .select_related("customer", "category", "owner").order_by("-created_at", "-id"))
