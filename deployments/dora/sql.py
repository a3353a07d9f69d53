"""DORA's four keys counted inside PostgreSQL: the same definitions as `metrics.dora_compute`,
in one query that returns a row per week (and one for the whole window) instead of every
release of the window.

The releases and incidents are the selectors' own querysets (the scope's filter, times as
POSIX seconds in doubles), so both paths read the same numbers; the week is `floor` of the
same division, the median `percentile_cont(0.5)` (which `metrics.median_hours` copies), and
the rounding is done in Python on both paths.
"""

from datetime import datetime, timedelta

from django.db import connection

from .metrics import HOUR, INCIDENT_WINDOW, WEEK, Dora, Week, week_start

# r: the scope's production releases of the window; inc: its high-urgency incidents.
# failed.at: when a change failed (the abort, the bad version going live, the first incident
# within 24 h), NULL if it did not. "The first incident at or after" and "the next healthy
# release after" are running minimums, newest first, over the service's incidents and over its
# succeeded releases in that environment: at the same moment an incident sorts before the
# release (it counts), a failure before a healthy release (only a strictly later one restores).
# Window functions rather than joins: the planner cannot estimate these CTEs, and picked
# nested loops over thousands of rows when they were joins.
QUERY = """
WITH r (id, c, e, state, f, k, rb) AS ({releases}),
inc (c, t) AS ({incidents}),
inc_next AS (
    SELECT id, c, e, state, f, k, min(CASE WHEN kind = 0 THEN f END) OVER (
        PARTITION BY c ORDER BY f DESC, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS inc_t, kind
    FROM (
        SELECT id, c, e, state, f, k, 1 AS kind FROM r
        WHERE f IS NOT NULL AND state IN ('succeeded', 'aborted')
        UNION ALL
        SELECT NULL, c, NULL, NULL, t, NULL, 0 FROM inc
    ) AS changes_and_incidents
),
ch AS (
    SELECT id, c, e, state, f, k, floor((f - %s) / %s)::int AS w,
           id IN (SELECT rb FROM r WHERE rb IS NOT NULL) AS rolled,
           CASE WHEN inc_t <= f + %s THEN inc_t END AS inc_t
    FROM inc_next WHERE kind = 1
),
failed AS (
    SELECT ch.*, CASE
        WHEN state = 'aborted' OR rolled THEN f WHEN state = 'succeeded' THEN inc_t
    END AS at
    FROM ch WHERE w >= 0 AND w < %s
),
ev AS (
    SELECT c, e, f AS t, 1 AS healthy, NULL::int AS w FROM r
    WHERE state = 'succeeded' AND f IS NOT NULL
    UNION ALL
    SELECT c, e, at, 0, w FROM failed WHERE at IS NOT NULL
),
nxt AS (
    SELECT w, t, min(CASE WHEN healthy = 1 THEN t END) OVER (
        PARTITION BY c, e ORDER BY t DESC, healthy
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS healthy_t, healthy
    FROM ev
),
restores AS (
    SELECT CASE WHEN floor((t - %s) / %s)::int < %s THEN floor((t - %s) / %s)::int ELSE w END
           AS w, (healthy_t - t) / %s AS hours
    FROM nxt WHERE healthy = 0 AND healthy_t IS NOT NULL
)
SELECT 'changes', w, count(*), count(*) FILTER (WHERE state = 'succeeded'), count(at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE
           WHEN state = 'succeeded' AND k IS NOT NULL AND k <= f THEN (f - k) / %s END)
FROM failed GROUP BY ROLLUP (w)
UNION ALL
SELECT 'restores', w, count(*), 0, 0, percentile_cont(0.5) WITHIN GROUP (ORDER BY hours)
FROM restores GROUP BY ROLLUP (w)
"""


def dora_sql(releases, incidents, *, weeks: int, now: datetime) -> Dora:
    """`metrics.dora_compute` in PostgreSQL. `releases`: a values_list queryset of (id,
    component_id, environment_id, state, finished seconds, committed seconds, rollback_of_id);
    `incidents`: one of (component_id, created seconds)."""
    first_week = week_start(now) - timedelta(weeks=weeks - 1)
    first = first_week.timestamp()
    releases_sql, releases_params = releases.query.sql_with_params()
    incidents_sql, incidents_params = incidents.query.sql_with_params()
    window = INCIDENT_WINDOW.total_seconds()
    params = (
        *releases_params,
        *incidents_params,
        first, WEEK, window, weeks,
        first, WEEK, weeks, first, WEEK, HOUR,
        HOUR,
    )  # fmt: skip
    sql = QUERY.format(releases=releases_sql, incidents=incidents_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    buckets = [Week(start=first_week + timedelta(weeks=i)) for i in range(weeks)]
    dora = Dora(weeks=buckets)
    for kind, index, count, deployments, failures, median in rows:
        median = None if median is None else round(median, 1)
        if kind == "changes" and index is None:
            dora.lead_time_hours = median
        elif kind == "changes":
            week = buckets[index]
            week.changes, week.deployments, week.failures = count, deployments, failures
            week.lead_time_hours = median
        elif index is None:
            dora.restore_time_hours = median
        else:
            buckets[index].restored, buckets[index].restore_time_hours = count, median
    return dora
