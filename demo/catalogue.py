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
    name_de: str
    step: str
    team: str
    hours: int
    # (must/should, English text, German text)
    criteria: tuple[tuple[str, str, str], ...]
    description: str = ""


# Configuration is kept in English and German (the reader's language is shown); what people write
# (titles, comments, feedback) stays in the language it was written in.
CATEGORIES = [
    ("On-site service response", "Reaktionszeit Vor-Ort-Service", "on-site-service-response", 3,
     "Technician on site within a promised number of working hours after a fault report.",
     "Techniker innerhalb einer zugesagten Zahl von Arbeitsstunden nach Störungsmeldung vor Ort.", [
         Gate("Service capacity check", "Prüfung der Servicekapazität", A, roles.SERVICE, 16, (
             (MUST, "Technician coverage in the customer's region confirmed",
              "Technikerabdeckung in der Region des Kunden bestätigt"),
             (MUST, "Response time achievable within the service team's working hours",
              "Reaktionszeit in der Arbeitszeit des Serviceteams erreichbar"),
             (SHOULD, "Spare parts for the installed base stocked in the nearest depot",
              "Ersatzteile für die installierte Basis im nächsten Depot vorrätig"))),
         Gate("Contract and liability review", "Vertrags- und Haftungsprüfung", A, roles.LEGAL, 24, (
             (MUST, "Penalty clauses capped at the deal value", "Vertragsstrafen auf den Auftragswert begrenzt"),
             (MUST, "Working-hours definition matches the SLA wording",
              "Definition der Arbeitszeit entspricht dem SLA-Wortlaut"),
             (SHOULD, "Force-majeure clause included", "Klausel zu höherer Gewalt enthalten"))),
         Gate("Dispatch readiness", "Einsatzbereitschaft", D, roles.DELIVERY, 8, (
             (MUST, "Customer site and contact person recorded in the field-service system",
              "Standort und Ansprechperson des Kunden im Außendienstsystem erfasst"),
             (MUST, "Escalation path agreed with the customer", "Eskalationsweg mit dem Kunden vereinbart"),
             (SHOULD, "Technicians briefed on the installed base", "Techniker in die installierte Basis eingewiesen"))),
         Gate("Fulfilment verification", "Prüfung der Erfüllung", C, roles.SERVICE, 16, (
             (MUST, "Measured value taken from the ticket system", "Messwert aus dem Ticketsystem übernommen"),
             (SHOULD, "Customer informed about the result", "Kunde über das Ergebnis informiert"))),
     ]),
    ("Delivery lead time", "Lieferzeit", "delivery-lead-time", 5,
     "Goods delivered within a promised number of working days after order.",
     "Ware innerhalb einer zugesagten Zahl von Werktagen nach Bestellung geliefert.", [
         Gate("Supply chain feasibility", "Machbarkeit in der Lieferkette", A, roles.DELIVERY, 16, (
             (MUST, "Stock or supplier lead time confirmed in the ERP",
              "Bestand oder Lieferzeit des Lieferanten im ERP bestätigt"),
             (MUST, "Carrier capacity available for the delivery region",
              "Speditionskapazität für die Lieferregion verfügbar"),
             (SHOULD, "Alternative supplier identified", "Ausweichlieferant benannt"))),
         Gate("Terms check", "Prüfung der Konditionen", A, roles.LEGAL, 16, (
             (MUST, "Incoterms and delivery date wording agreed", "Incoterms und Formulierung des Liefertermins vereinbart"),
             (SHOULD, "Liquidated damages limited", "Pauschalierter Schadenersatz begrenzt"))),
         Gate("Order handover", "Auftragsübergabe", D, roles.DELIVERY, 8, (
             (MUST, "Order released in the ERP with the promised date",
              "Auftrag im ERP mit dem zugesagten Termin freigegeben"),
             (SHOULD, "Delivery slot booked with the customer", "Lieferfenster mit dem Kunden gebucht"))),
         Gate("Delivery verification", "Prüfung der Lieferung", C, roles.SERVICE, 8, (
             (MUST, "Proof of delivery attached", "Liefernachweis beigefügt"),
             (SHOULD, "Customer satisfaction call made", "Zufriedenheitsanruf beim Kunden erfolgt"))),
     ]),
    ("24/7 hotline", "24/7-Hotline", "hotline-24-7", 7,
     "A hotline that answers around the clock within a promised time.",
     "Eine Hotline, die rund um die Uhr innerhalb einer zugesagten Zeit annimmt.", [
         Gate("Staffing check", "Prüfung der Besetzung", A, roles.SERVICE, 24, (
             (MUST, "Night and weekend shifts staffed for the contract term",
              "Nacht- und Wochenendschichten für die Vertragslaufzeit besetzt"),
             (MUST, "Call volume forecast within the team's capacity",
              "Prognostiziertes Anrufaufkommen innerhalb der Teamkapazität"),
             (SHOULD, "German and English speaking agents available",
              "Deutsch- und englischsprachige Mitarbeitende verfügbar"))),
         Gate("SLA wording", "SLA-Formulierung", A, roles.LEGAL, 16, (
             (MUST, "Answer time measured as in the telephony reports",
              "Annahmezeit wie in den Telefonieberichten gemessen"),
             (SHOULD, "Exclusions for public holidays stated", "Ausnahmen für Feiertage benannt"))),
         Gate("Hotline KPIs verified", "Hotline-Kennzahlen geprüft", C, roles.SERVICE, 8, (
             (MUST, "Answer-time report for the period attached", "Bericht zur Annahmezeit für den Zeitraum beigefügt"),
             (SHOULD, "Abandoned-call rate reviewed", "Abbruchquote geprüft"))),
     ]),
    ("Data migration", "Datenmigration", "data-migration", 5,
     "Migration of the customer's data into the new system, free of charge and within a set time.",
     "Übernahme der Kundendaten in das neue System, kostenlos und innerhalb einer festen Zeit.", [
         Gate("Technical assessment", "Technische Bewertung", A, roles.SERVICE, 24, (
             (MUST, "Source system and data volume analysed", "Quellsystem und Datenvolumen analysiert"),
             (MUST, "Migration tooling available for the source format",
              "Migrationswerkzeuge für das Quellformat verfügbar"),
             (SHOULD, "Test migration with a sample completed", "Testmigration mit einer Stichprobe abgeschlossen"))),
         Gate("Data protection review", "Datenschutzprüfung", A, roles.LEGAL, 24, (
             (MUST, "Data processing agreement (Art. 28 GDPR) in place",
              "Auftragsverarbeitungsvertrag (Art. 28 DSGVO) liegt vor"),
             (MUST, "Personal data categories documented", "Kategorien personenbezogener Daten dokumentiert"),
             (SHOULD, "Deletion of the source data agreed", "Löschung der Quelldaten vereinbart"))),
         Gate("Migration plan approved", "Migrationsplan freigegeben", D, roles.DELIVERY, 16, (
             (MUST, "Cut-over window agreed with the customer", "Umstellungsfenster mit dem Kunden vereinbart"),
             (MUST, "Rollback plan documented", "Rückfallplan dokumentiert"))),
         Gate("Cut-over readiness", "Umstellungsbereitschaft", D, roles.SERVICE, 8, (
             (MUST, "Backups verified", "Datensicherungen geprüft"),
             (SHOULD, "Key users trained", "Key-User geschult"))),
         Gate("Migration acceptance", "Abnahme der Migration", C, roles.DELIVERY, 16, (
             (MUST, "Reconciliation report signed by the customer", "Abgleichsbericht vom Kunden unterschrieben"),
             (SHOULD, "Lessons learned recorded", "Lessons Learned festgehalten"))),
     ]),
    ("Preventive maintenance", "Vorbeugende Wartung", "preventive-maintenance", 10,
     "Scheduled maintenance visits at a promised interval.",
     "Geplante Wartungsbesuche in einem zugesagten Rhythmus.", [
         Gate("Service planning", "Serviceplanung", A, roles.SERVICE, 16, (
             (MUST, "Maintenance intervals fit the technicians' route planning",
              "Wartungsintervalle passen in die Tourenplanung der Techniker"),
             (SHOULD, "Maintenance kits available", "Wartungssets verfügbar"))),
         Gate("Maintenance schedule set up", "Wartungsplan eingerichtet", D, roles.DELIVERY, 8, (
             (MUST, "Visits scheduled in the field-service system", "Besuche im Außendienstsystem eingeplant"),)),
         Gate("Maintenance visits verified", "Wartungsbesuche geprüft", C, roles.SERVICE, 8, (
             (MUST, "Service reports for every visit filed", "Serviceberichte für jeden Besuch abgelegt"),)),
     ]),
]


def _gate_drafts(gates: list[Gate], teams: dict[str, Group]) -> list[GateDraft]:
    return [
        GateDraft(order=order, name=gate.name, name_de=gate.name_de, step=gate.step, owning_team=teams[gate.team],
                  decision_hours=gate.hours, description=gate.description, criteria=tuple(
                      CriterionDraft(order=i, text=text, text_de=text_de, requirement=req,
                                     weight=2 if req == MUST else 1)
                      for i, (req, text, text_de) in enumerate(gate.criteria, start=1)))
        for order, gate in enumerate(gates, start=1)
    ]


LOWER, HIGHER = MetricDirection.LOWER_IS_BETTER, MetricDirection.HIGHER_IS_BETTER
K = MetricKind

# The metric catalogue: (English name, German name, unit, direction, kind, category slugs).
# Units that are words have a German copy; symbols (h, s, %, min) read the same.
UNITS_DE = {"working days": "Arbeitstage", "visits": "Besuche", "score 1–5": "Punkte 1–5", "count": "Anzahl"}
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
            metric_create, user=manager, name=name, name_de=name_de, unit=unit, unit_de=UNITS_DE.get(unit, ""),
            direction=direction, kind=kind,
            categories=[categories[slug] for slug in slugs])
    return metrics


def seed_categories(*, teams: dict[str, Group], manager, clock: DemoClock) -> dict[str, PromiseCategory]:
    categories = {}
    for name, name_de, slug, notice_days, description, description_de, gates in CATEGORIES:
        category, _ = PromiseCategory.objects.get_or_create(slug=slug, defaults={
            "name": name, "name_de": name_de, "description": description, "description_de": description_de,
            "interim_notice_days": notice_days})
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
