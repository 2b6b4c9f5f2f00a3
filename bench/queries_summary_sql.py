"""The best hand-written SQL of the read paths' questions over the summary tables (bench/queries.py uses
it once they exist): whole days from the day rows plus the raw rows of the two partial edge days."""

WINDOW = "365 days"
KEPT = ("((p.comparison = 'lte' AND p.actual_value <= p.target_value) OR (p.comparison = 'gte' AND "
        "p.actual_value >= p.target_value) OR (p.comparison = 'eq' AND p.actual_value = p.target_value))")
EDGES = f"""(p.verified_at >= now() - interval '{WINDOW}' AND p.verified_at < date_trunc('day', now() - interval '{WINDOW}') + interval '1 day'
              OR p.verified_at >= date_trunc('day', now()) AND p.verified_at <= now())"""
DAYS = f"s.day > (now() - interval '{WINDOW}')::date AND s.day < now()::date"

HAND = {
    "dashboard": [
        f"SELECT s.category_id, SUM(s.kept), SUM(s.broken) FROM promises_promiseday s WHERE {DAYS} GROUP BY 1",
        f"""SELECT p.category_id, COUNT(*) FILTER (WHERE {KEPT}), COUNT(*) FILTER (WHERE NOT {KEPT})
              FROM promises_servicepromise p WHERE p.actual_value IS NOT NULL AND {EDGES} GROUP BY 1""",
        """SELECT d.id, d.name, c.name, t.passed, t.verified, t.escaped FROM qualitygates_gateescapetally t
             JOIN qualitygates_gatedefinition d ON d.id = t.definition_id JOIN qualitygates_gateplan gp ON gp.id = d.plan_id
             JOIN promises_promisecategory c ON c.id = gp.category_id WHERE t.passed > 0 AND d.step <> 'closure'""",
        "SELECT definition_id, reason, escaped FROM qualitygates_gateescapereason ORDER BY definition_id, escaped DESC",
        """SELECT i.id, ic.promisecategory_id,
                  SUM(s.kept) FILTER (WHERE s.day < i.standardized_at::date),
                  SUM(s.kept) FILTER (WHERE s.day >= i.standardized_at::date)
             FROM (SELECT * FROM feedback_improvementitem WHERE state = 'standardized'
                    ORDER BY standardized_at DESC, id DESC LIMIT 20) i
             JOIN feedback_improvementitem_categories ic ON ic.improvementitem_id = i.id
             JOIN promises_promiseday s ON s.category_id = ic.promisecategory_id
              AND s.day >= (i.standardized_at - interval '90 days')::date AND s.day < (i.standardized_at + interval '90 days')::date
            GROUP BY 1, 2""",
        """SELECT * FROM feedback_improvementitem WHERE state IN
             ('proposed', 'accepted', 'planned', 'in_progress', 'checking') ORDER BY created_at DESC, id DESC LIMIT 50""",
        """SELECT COUNT(*) FROM feedback_improvementitem WHERE state IN
             ('proposed', 'accepted', 'planned', 'in_progress', 'checking')""",
    ],
    "record": [
        f"""SELECT SUM(s.made), SUM(s.kept), SUM(s.broken) FROM promises_promiseday s
             WHERE s.category_id = %(category)s AND {DAYS}""",
        f"""SELECT COUNT(*) FILTER (WHERE {KEPT}), COUNT(*) FILTER (WHERE NOT {KEPT}) FROM promises_servicepromise p
             WHERE p.category_id = %(category)s AND p.actual_value IS NOT NULL AND {EDGES}""",
        f"""SELECT reason, SUM(broken) FROM promises_brokenreasonday s WHERE s.category_id = %(category)s AND {DAYS}
             GROUP BY 1 ORDER BY 2 DESC LIMIT 3""",
        """SELECT step, name, bucket, SUM(count), SUM(total_us) FROM qualitygates_gateleadtimemonth
            WHERE category_id = %(category)s AND month >= date_trunc('month', now() - interval '365 days')::date
            GROUP BY 1, 2, 3""",
    ],
}
