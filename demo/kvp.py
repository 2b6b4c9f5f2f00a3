"""The KVP part of the demo (seeded after the promises exist): feedback from
several channels, improvement items in every state, guidance on categories and one changed gate
criterion (a second plan version) — all through the services, as managers would do it.

Runs once: a second seed_demo finds the demo feedback and leaves the KVP data alone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from core import roles
from feedback.models import Feedback, ImprovementItem, TargetMeasure
from feedback.services import improvements
from feedback.services.intake import feedback_record
from feedback.services.targets import TargetInput
from promises.metrics import metric_create
from promises.models import Metric, PromiseState, ServicePromise
from qualitygates.selectors import gate_plan_current

from .catalogue import UNITS_DE
from .clock import DemoClock

MARKER = "DEMO-FB-"

FEEDBACK = [
    # (category slug, kind, channel, severity, csat, nps, text, link a broken promise of the category)
    ("on-site-service-response", "complaint", "phone", "high", 2, None,
     "Der Techniker kam erst am nächsten Tag, die Anlage stand 20 Stunden still.", True),
    ("on-site-service-response", "complaint", "email", "high", 1, None,
     "Zum zweiten Mal in diesem Quartal: niemand innerhalb von 4 Stunden vor Ort.", False),
    ("delivery-lead-time", "praise", "survey", "low", None, 9,
     "Lieferung pünktlich, sehr gute Kommunikation mit dem Lager.", False),
    ("hotline-24-7", "suggestion", "email", "medium", 4, None,
     "Bitte eine Rückrufoption anbieten statt Warteschleife.", False),
    ("hotline-24-7", "complaint", "social_media", "high", 2, 2,
     "45 Minuten in der Warteschleife – so viel zu '24/7 in 60 Sekunden'.", False),
    ("data-migration", "complaint", "field_service", "medium", 3, None,
     "Altdaten aus dem Vorsystem nur unvollständig übernommen (Anhänge fehlen).", True),
    ("preventive-maintenance", "praise", "survey", "low", 5, 10, "Wartung wie angekündigt, sauber dokumentiert.",
     False),
]


# The catalogue metrics the improvement targets use: (name, German name, unit, direction, kind).
METRICS = {
    "keep_rate": ("share of kept 4-h promises", "Anteil eingehaltener 4-h-Zusagen", "%", "higher", "percentage"),
    "wait": ("average wait", "mittlere Wartezeit", "min", "lower", "count"),
    "csat": ("customer satisfaction (CSAT)", "Kundenzufriedenheit (CSAT)", "score 1–5", "higher", "score"),
    "migrations": ("incomplete migrations per quarter", "unvollständige Migrationen pro Quartal", "count", "lower",
                   "count"),
    "delivery_south": ("delivery time south", "Lieferzeit Süd", "working days", "lower", "calendar_days"),
    "moved_maintenance": ("postponed maintenance appointments", "verschobene Wartungstermine", "%", "lower",
                          "percentage"),
}


def _metrics(manager, clock: DemoClock) -> dict[str, Metric]:
    """The improvement targets' metrics, kept in the catalogue through its service like any other."""
    found = {}
    for key, (name, name_de, unit, direction, kind) in METRICS.items():
        found[key] = Metric.objects.filter(name=name).first() or clock.call(
            metric_create, user=manager, name=name, name_de=name_de, unit=unit, unit_de=UNITS_DE.get(unit, ""),
            direction=direction, kind=kind)
    return found


def _target(metric: Metric, baseline: str, target: str, clock: DemoClock, *, days: int = 180,
            measure: TargetMeasure = TargetMeasure.MANUAL, categories=(), window_days: int = 90) -> TargetInput:
    return TargetInput(metric=metric, baseline=Decimal(baseline), target_value=Decimal(target),
                       deadline=clock.today + dt.timedelta(days=days), measure=measure,
                       categories=tuple(categories), window_days=window_days)


def _plan(item, manager, owner, clock: DemoClock, *, targets: list[TargetInput], budget):
    today = clock.today
    clock.call(
        improvements.improvement_plan, item_id=item.pk, user=manager, owner=owner, priority="high",
        start_date=today, due_date=today + dt.timedelta(days=60), budget=Decimal(budget), targets=targets)


def seed_kvp(*, users: dict, categories: dict, clock: DemoClock) -> dict[str, int]:
    if Feedback.objects.filter(external_reference__startswith=MARKER).exists():
        return {"kvp_feedback": 0, "kvp_improvements": 0}
    manager, service, sales = users["manager"], users[roles.SERVICE], users[roles.SALES]
    with transaction.atomic():
        metric = _metrics(manager, clock)
        feedback = []
        for n, (slug, kind, channel, severity, csat, nps, text, link) in enumerate(FEEDBACK, start=1):
            category = categories[slug]
            promise = (ServicePromise.objects.filter(category=category, state=PromiseState.BROKEN)
                       .order_by("pk").first() if link else None)
            feedback.append(clock.call(
                feedback_record, user=service, kind=kind, channel=channel, severity=severity,
                csat_score=csat, nps_score=nps,
                text=text, promise=promise,
                category=None if promise else category, external_reference=f"{MARKER}{n:03d}",
                received_at=clock.now - dt.timedelta(days=3 * n)))

        def propose(title, slug, description, feedback_ids=(), user=manager):
            return clock.call(improvements.improvement_propose, user=user, title=title, description=description,
                              category_ids=[categories[slug].pk], feedback_ids=feedback_ids)

        # Standardized with a changed gate criterion: the on-site plan gets a second version.
        onsite = propose("Technikerkapazität vor der Zusage prüfen", "on-site-service-response",
                         "Zusagen von 4 Stunden wurden gegeben, obwohl in der Region kein Techniker frei war.",
                         [feedback[0].pk, feedback[1].pk])
        clock.call(improvements.improvement_accept, item_id=onsite.pk, user=manager,
                   comment="Häufigster Beschwerdegrund.")
        _plan(onsite, manager, service, clock, budget="4000", targets=[
            _target(metric["keep_rate"], "62", "90", clock, measure=TargetMeasure.KEEP_RATE,
                    categories=[categories["on-site-service-response"]])])
        clock.call(improvements.improvement_start, item_id=onsite.pk, user=service)
        clock.call(improvements.improvement_check, item_id=onsite.pk, user=service, measured_value=Decimal("86"),
                   note="Pilot in Bayern: 86 % nach acht Wochen.")
        first_gate = gate_plan_current(category_id=categories["on-site-service-response"].pk).definitions.order_by(
            "order").first()
        clock.call(
            improvements.improvement_standardize, item_id=onsite.pk, user=manager,
            guidance_text="4-Stunden-Zusagen nur nach Blick in die Einsatzplanung der Region; außerhalb der "
                          "Ballungsräume den nächsten Werktag zusagen.",
            criteria_changes=[{"definition_id": first_gate.pk, "requirement": "must",
                               "text": "Einsatzplanung der Region zeigt einen freien Techniker im Zeitfenster"}])

        # Standardized with guidance only.
        hotline = propose("Rückrufoption für die Hotline", "hotline-24-7",
                          "Spitzen montags 8–10 Uhr sprengen die 60-Sekunden-Zusage.", [feedback[3].pk, feedback[4].pk])
        clock.call(improvements.improvement_accept, item_id=hotline.pk, user=manager)
        # Two targets in one item: the wait measured by hand (the hotline's system), satisfaction by the
        # product from the CSAT scores of the category's feedback.
        _plan(hotline, manager, service, clock, budget="12000", targets=[
            _target(metric["wait"], "2", "1", clock, days=365),
            _target(metric["csat"], "3.8", "4.3", clock, days=365, measure=TargetMeasure.CSAT_AVERAGE,
                    categories=[categories["hotline-24-7"]])])
        clock.call(improvements.improvement_start, item_id=hotline.pk, user=manager)
        wait_target = hotline.targets.get(metric=metric["wait"])
        clock.call(improvements.improvement_check, item_id=hotline.pk, user=manager,
                   manual_values={wait_target.pk: Decimal("0.9")})
        clock.call(
            improvements.improvement_standardize, item_id=hotline.pk, user=manager,
            guidance_text="'Erreichbar in 60 Sekunden' nur mit aktivierter Rückrufoption zusagen; Spitzenzeiten "
                          "montags 8–10 Uhr ausdrücklich ausnehmen.")

        migration = propose("Checkliste für Anhänge bei Datenmigrationen", "data-migration",
                            "Anhänge und Altarchive werden beim Export vergessen.", [feedback[5].pk])
        clock.call(improvements.improvement_accept, item_id=migration.pk, user=manager)
        _plan(migration, manager, service, clock, budget="1500",
              targets=[_target(metric["migrations"], "4", "1", clock)])
        clock.call(improvements.improvement_start, item_id=migration.pk, user=service)
        clock.call(improvements.improvement_check, item_id=migration.pk, user=service, measured_value=Decimal("2"),
                   note="Noch nicht am Ziel; zweite Runde nötig?")

        parts = propose("Ersatzteillager Süd", "delivery-lead-time",
                        "Ersatzteile für Süddeutschland kommen aus Hamburg.")
        clock.call(improvements.improvement_accept, item_id=parts.pk, user=manager)
        _plan(parts, manager, users[roles.DELIVERY], clock, budget="25000",
              targets=[_target(metric["delivery_south"], "7", "4", clock)])
        clock.call(improvements.improvement_start, item_id=parts.pk, user=manager)

        reminder = propose("Wartungstermine zwei Wochen vorher bestätigen", "preventive-maintenance",
                           "Kunden sind am Wartungstag oft nicht vorbereitet.")
        clock.call(improvements.improvement_accept, item_id=reminder.pk, user=manager)
        _plan(reminder, manager, service, clock, budget="800",
              targets=[_target(metric["moved_maintenance"], "18", "5", clock)])

        survey = propose("Kundenumfrage nach jeder Lieferung", "delivery-lead-time",
                         "Mehr Rückmeldungen als nur Beschwerden.")
        clock.call(improvements.improvement_accept, item_id=survey.pk, user=manager)

        propose("Angebotsvorlage mit realistischen Reaktionszeiten", "on-site-service-response",
                "Vertrieb nutzt noch die alte Vorlage mit 2 Stunden.", user=sales)

        weekend = propose("Wochenend-Bereitschaft für alle Regionen", "on-site-service-response",
                          "Rund-um-die-Uhr-Bereitschaft überall.", user=sales)
        clock.call(improvements.improvement_reject, item_id=weekend.pk, user=manager,
                   comment="Zu teuer für den Nutzen; Zusagen werden stattdessen eingeschränkt.")
    return {"kvp_feedback": len(feedback), "kvp_improvements": ImprovementItem.objects.count()}
