"""factory_boy factories and the fixtures most tests start from.

Reference data (teams, plans) is built directly; promises and everything that moves them go
through the services, as a user would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from promises import services as promise_services
from promises.models import Customer, Metric, MetricDirection, MetricKind, PromiseCategory
from qualitygates.checks import CheckInput
from qualitygates.models import (
    CheckResult,
    GateCriterion,
    GateDefinition,
    GatePlan,
    GateStep,
    Requirement,
    WorkingCalendar,
)

User = get_user_model()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get_or_create(name=name)[0])


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Stadtwerke Beispiel {n} GmbH")
    email = factory.Sequence(lambda n: f"kunde{n}@example.com")
    language = "de"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromiseCategory
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


# The test catalogue: English name → (unit, direction, kind).
TEST_METRICS = {
    "response time": ("h", MetricDirection.LOWER_IS_BETTER, MetricKind.WORKING_HOURS),
    "availability": ("%", MetricDirection.HIGHER_IS_BETTER, MetricKind.PERCENTAGE),
    "lead time": ("working days", MetricDirection.LOWER_IS_BETTER, MetricKind.CALENDAR_DAYS),
    "cost": ("EUR", MetricDirection.LOWER_IS_BETTER, MetricKind.MONEY),
    "answer time": ("s", MetricDirection.LOWER_IS_BETTER, MetricKind.WORKING_HOURS),
}


def catalogue_metric(category: PromiseCategory, name: str = "response time") -> Metric:
    """A metric of the test catalogue, attached to the category (reference data, built directly)."""
    unit, direction, kind = TEST_METRICS[name]
    metric = Metric.objects.get_or_create(name=name, defaults={"unit": unit, "direction": direction,
                                                                "kind": kind, "name_de": f"{name} (de)"})[0]
    metric.categories.add(category)
    return metric


class WorkingCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingCalendar
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)
    holiday_country = "DE"
    holiday_subdivision = "BY"


class GatePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GatePlan

    category = factory.SubFactory(CategoryFactory)
    name = factory.LazyAttribute(lambda p: f"{p.category.name} plan")
    version = 1


class GateDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateDefinition

    plan = factory.SubFactory(GatePlanFactory)
    name = factory.Sequence(lambda n: f"Gate {n}")
    step = GateStep.APPROVAL
    order = factory.Sequence(lambda n: n)
    owning_team = factory.SubFactory(TeamFactory)
    decision_hours = 16


class GateCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateCriterion

    definition = factory.SubFactory(GateDefinitionFactory)
    text = factory.Sequence(lambda n: f"Criterion {n}")
    requirement = Requirement.MUST
    order = factory.Sequence(lambda n: n)


def build_standard_plan(category: PromiseCategory) -> GatePlan:
    """Two approval gates (service, legal), one delivery gate, one closure gate."""
    service = Group.objects.get_or_create(name=roles.SERVICE)[0]
    legal = Group.objects.get_or_create(name=roles.LEGAL)[0]
    delivery = Group.objects.get_or_create(name=roles.DELIVERY)[0]
    plan = GatePlanFactory(category=category)
    specs = [
        ("Feasibility", GateStep.APPROVAL, service, 1),
        ("Legal check", GateStep.APPROVAL, legal, 2),
        ("Delivery readiness", GateStep.DELIVERY, delivery, 1),
        ("Fulfilment verified", GateStep.CLOSURE, service, 1),
    ]
    for name, step, team, order in specs:
        definition = GateDefinitionFactory(plan=plan, name=name, step=step, owning_team=team, order=order)
        GateCriterionFactory(definition=definition, text=f"{name}: capacity confirmed", requirement=Requirement.MUST, order=1)
        GateCriterionFactory(definition=definition, text=f"{name}: documented", requirement=Requirement.SHOULD, order=2)
    return plan


@pytest.fixture
def seller(db):
    return UserFactory(username="seller", teams=[roles.SALES])


@pytest.fixture
def service_user(db):
    return UserFactory(username="servicer", teams=[roles.SERVICE])


@pytest.fixture
def service_user2(db):
    return UserFactory(username="servicer2", teams=[roles.SERVICE])


@pytest.fixture
def legal_user(db):
    return UserFactory(username="lawyer", teams=[roles.LEGAL])


@pytest.fixture
def delivery_user(db):
    return UserFactory(username="deliverer", teams=[roles.DELIVERY])


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", teams=[roles.MANAGERS])


@pytest.fixture
def category(db):
    category = CategoryFactory(name="On-site service", slug="on-site-service")
    build_standard_plan(category)
    catalogue_metric(category, "response time")
    catalogue_metric(category, "availability")
    return category


@pytest.fixture
def response_time(category) -> Metric:
    return Metric.objects.get(name="response time")


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def make_promise(seller, category, customer):
    def make(**overrides):
        data = {
            "user": seller, "title": "Technician on site within 4 hours", "category": category,
            "customer": customer, "origin_department": "sales", "channel": "contract",
            "comparison": "lte", "target_value": Decimal("4"), "due_date": dt.date(2027, 3, 31),
        }
        data.update(overrides)
        if "metric" not in data:
            # A comparison "at least" needs a metric where higher is better.
            data["metric"] = catalogue_metric(data["category"],
                                              "availability" if data["comparison"] == "gte" else "response time")
        return promise_services.promise_create(**data)

    return make


def all_checks_met(review) -> list[CheckInput]:
    return [CheckInput(check_id=c.pk, result=CheckResult.MET) for c in review.checks.all()]
