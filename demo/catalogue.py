"""The demo's catalogue: promise categories with their gate plans and metrics, and German customers.

Categories are configuration (get_or_create on the slug); gate plans and customers are recorded
through their services, by the demo manager and the demo seller. A category that has a plan keeps
it: a manager may have edited it since, and the demo never overwrites a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group

from core import roles
from promises.metrics import metric_create
from promises.models import Customer, Metric, MetricDirection, MetricKind, PromiseCategory
from promises.services import customer_create
from qualitygates.models import GatePlan, GateStep, Requirement
from qualitygates.plan_edits import CriterionDraft, GateDraft, gate_plan_create

from .clock import DemoClock

A, D, C = GateStep.APPROVAL, GateStep.DELIVERY, GateStep.CLOSURE
MUST, SHOULD = Requirement.MUST, Requirement.SHOULD


@dataclass(frozen=True)
class Gate:
    name: str
    step: str
    team: str
    hours: int
    criteria: tuple[tuple[str, str], ...]
    description: str = ""


CATEGORIES = [
    ("On-site service response", "on-site-service-response", 3,
     "Technician on site within a promised number of working hours after a fault report.", [
         Gate("Service capacity check", A, roles.SERVICE, 16, (
             (MUST, "Technician coverage in the customer's region confirmed"),
             (MUST, "Response time achievable within the service team's working hours"),
             (SHOULD, "Spare parts for the installed base stocked in the nearest depot"))),
         Gate("Contract and liability review", A, roles.LEGAL, 24, (
             (MUST, "Penalty clauses capped at the deal value"),
             (MUST, "Working-hours definition matches the SLA wording"),
             (SHOULD, "Force-majeure clause included"))),
         Gate("Dispatch readiness", D, roles.DELIVERY, 8, (
             (MUST, "Customer site and contact person recorded in the field-service system"),
             (MUST, "Escalation path agreed with the customer"),
             (SHOULD, "Technicians briefed on the installed base"))),
         Gate("Fulfilment verification", C, roles.SERVICE, 16, (
             (MUST, "Measured value taken from the ticket system"),
             (SHOULD, "Customer informed about the result"))),
     ]),
    ("Delivery lead time", "delivery-lead-time", 5,
     "Goods delivered within a promised number of working days after order.", [
         Gate("Supply chain feasibility", A, roles.DELIVERY, 16, (
             (MUST, "Stock or supplier lead time confirmed in the ERP"),
             (MUST, "Carrier capacity available for the delivery region"),
             (SHOULD, "Alternative supplier identified"))),
         Gate("Terms check", A, roles.LEGAL, 16, (
             (MUST, "Incoterms and delivery date wording agreed"),
             (SHOULD, "Liquidated damages limited"))),
         Gate("Order handover", D, roles.DELIVERY, 8, (
             (MUST, "Order released in the ERP with the promised date"),
             (SHOULD, "Delivery slot booked with the customer"))),
         Gate("Delivery verification", C, roles.SERVICE, 8, (
             (MUST, "Proof of delivery attached"),
             (SHOULD, "Customer satisfaction call made"))),
     ]),
    ("24/7 hotline", "hotline-24-7", 7,
     "A hotline that answers around the clock within a promised time.", [
         Gate("Staffing check", A, roles.SERVICE, 24, (
             (MUST, "Night and weekend shifts staffed for the contract term"),
             (MUST, "Call volume forecast within the team's capacity"),
             (SHOULD, "German and English speaking agents available"))),
         Gate("SLA wording", A, roles.LEGAL, 16, (
             (MUST, "Answer time measured as in the telephony reports"),
             (SHOULD, "Exclusions for public holidays stated"))),
         Gate("Hotline KPIs verified", C, roles.SERVICE, 8, (
             (MUST, "Answer-time report for the period attached"),
             (SHOULD, "Abandoned-call rate reviewed"))),
     ]),
    ("Data migration", "data-migration", 5,
     "Migration of the customer's data into the new system, free of charge and within a set time.", [
         Gate("Technical assessment", A, roles.SERVICE, 24, (
             (MUST, "Source system and data volume analysed"),
             (MUST, "Migration tooling available for the source format"),
             (SHOULD, "Test migration with a sample completed"))),
         Gate("Data protection review", A, roles.LEGAL, 24, (
             (MUST, "Data processing agreement (Art. 28 GDPR) in place"),
             (MUST, "Personal data categories documented"),
             (SHOULD, "Deletion of the source data agreed"))),
         Gate("Migration plan approved", D, roles.DELIVERY, 16, (
             (MUST, "Cut-over window agreed with the customer"),
             (MUST, "Rollback plan documented"))),
         Gate("Cut-over readiness", D, roles.SERVICE, 8, (
             (MUST, "Backups verified"),
             (SHOULD, "Key users trained"))),
         Gate("Migration acceptance", C, roles.DELIVERY, 16, (
             (MUST, "Reconciliation report signed by the customer"),
             (SHOULD, "Lessons learned recorded"))),
     ]),
    ("Preventive maintenance", "preventive-maintenance", 10,
     "Scheduled maintenance visits at a promised interval.", [
         Gate("Service planning", A, roles.SERVICE, 16, (
             (MUST, "Maintenance intervals fit the technicians' route planning"),
             (SHOULD, "Maintenance kits available"))),
         Gate("Maintenance schedule set up", D, roles.DELIVERY, 8, (
             (MUST, "Visits scheduled in the field-service system"),)),
         Gate("Maintenance visits verified", C, roles.SERVICE, 8, (
             (MUST, "Service reports for every visit filed"),)),
     ]),
]



def _gate_drafts(gates: list[Gate], teams: dict[str, Group]) -> list[GateDraft]:
    return [
        GateDraft(order=order, name=gate.name, step=gate.step, owning_team=teams[gate.team],
                  decision_hours=gate.hours, description=gate.description, criteria=tuple(
                      CriterionDraft(order=i, text=text, requirement=req, weight=2 if req == MUST else 1)
                      for i, (req, text) in enumerate(gate.criteria, start=1)))
        for order, gate in enumerate(gates, start=1)
    ]


LOWER, HIGHER = MetricDirection.LOWER_IS_BETTER, MetricDirection.HIGHER_IS_BETTER
K = MetricKind

# The metric catalogue: (English name, German name, unit, direction, kind, category slugs).
METRICS = [
    ("response time", "Reaktionszeit", "h", LOWER, K.WORKING_HOURS, ["on-site-service-response"]),
    ("lead time", "Lieferzeit", "working days", LOWER, K.CALENDAR_DAYS, ["delivery-lead-time"]),
    ("answer time (90th percentile)", "Annahmezeit (90. Perzentil)", "s", LOWER, K.WORKING_HOURS,
     ["hotline-24-7"]),
    ("availability", "Erreichbarkeit", "%", HIGHER, K.PERCENTAGE, ["hotline-24-7"]),
    ("migration time", "Migrationsdauer", "working days", LOWER, K.CALENDAR_DAYS, ["data-migration"]),
    ("downtime", "Ausfallzeit", "h", LOWER, K.WORKING_HOURS, ["data-migration"]),
    ("visits per year", "Wartungsbesuche pro Jahr", "visits", HIGHER, K.COUNT, ["preventive-maintenance"]),
]


def seed_metrics(*, manager, categories: dict[str, PromiseCategory], clock: DemoClock) -> dict[str, Metric]:
    """The catalogue's metrics, keyed by English name; one a manager has kept already stays as it is."""
    metrics = {}
    for name, name_de, unit, direction, kind, slugs in METRICS:
        metrics[name] = Metric.objects.filter(name=name).first() or clock.call(
            metric_create, user=manager, name=name, name_de=name_de, unit=unit, direction=direction, kind=kind,
            categories=[categories[slug] for slug in slugs])
    return metrics


def seed_categories(*, teams: dict[str, Group], manager, clock: DemoClock) -> dict[str, PromiseCategory]:
    categories = {}
    for name, slug, notice_days, description, gates in CATEGORIES:
        category, _ = PromiseCategory.objects.get_or_create(slug=slug, defaults={
            "name": name, "description": description, "interim_notice_days": notice_days})
        categories[slug] = category
        if not GatePlan.objects.filter(category=category).exists():
            clock.call(gate_plan_create, user=manager, category=category, name=f"{name} gates",
                       change_note="Initial plan of the demo.", gates=_gate_drafts(gates, teams))
    seed_metrics(manager=manager, categories=categories, clock=clock)
    return categories


CUSTOMERS = [
    ("Brandt Maschinenbau GmbH", "Industrie", "de"),
    ("Stadtwerke Rheinau AG", "Energieversorger", "de"),
    ("Klinikum Isartal gGmbH", "Gesundheitswesen", "de"),
    ("Hoffmann Logistik GmbH & Co. KG", "Logistik", "de"),
    ("Bäckerei Krüger KG", "Handwerk", "de"),
    ("Nordlicht Versicherung AG", "Finanzdienstleistung", "de"),
    ("Autohaus Weber GmbH", "Handel", "de"),
    ("Gemeinde Oberhaching", "Öffentliche Verwaltung", "de"),
    ("Schulte & Partner Steuerberatung", "Dienstleistung", "de"),
    ("Alpina Kunststofftechnik GmbH", "Industrie", "en"),
]



def seed_customers(*, maker, clock: DemoClock) -> dict[str, Customer]:
    customers = {}
    for i, (name, segment, language) in enumerate(CUSTOMERS, start=1):
        slug = name.split()[0].lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        customers[name] = Customer.objects.filter(name=name).first() or clock.call(
            customer_create, user=maker, name=name, segment=segment, language=language,
            email=f"service@{slug}.example.com", crm_reference=f"CRM-K{1000 + i}")
    return customers
