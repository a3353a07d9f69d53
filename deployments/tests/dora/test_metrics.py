"""DORA's four keys from plain rows: each definition, one case each."""

from datetime import UTC, datetime, timedelta

from deployments.dora.metrics import ReleaseRow, dora_compute, week_start

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday
MONDAY = week_start(NOW)


def row(pk, state="succeeded", *, finished, committed=None, component=1, rollback_of=None):
    committed = committed.timestamp() if committed else None
    return ReleaseRow(pk, component, 10, state, finished.timestamp(), committed, rollback_of)


def seconds(incidents: dict) -> dict:
    return {component: [t.timestamp() for t in times] for component, times in incidents.items()}


def test_weeks_start_on_monday_and_the_current_week_is_last():
    dora = dora_compute([], {}, weeks=4, now=NOW)
    assert [w.start for w in dora.weeks][-1] == MONDAY == datetime(2026, 11, 23, tzinfo=UTC)
    assert dora.weeks[0].start == MONDAY - timedelta(weeks=3)
    assert dora.failure_rate is None and dora.lead_time_hours is None and dora.per_week == 0


def test_deployment_frequency_counts_succeeded_releases_in_their_finish_week():
    rows = [
        row(1, finished=MONDAY + timedelta(hours=1)),
        row(2, finished=MONDAY + timedelta(hours=2)),
        row(3, "failed", finished=MONDAY + timedelta(hours=3)),  # never changed production
        row(4, finished=MONDAY - timedelta(days=1)),  # the week before
        row(5, finished=MONDAY - timedelta(weeks=9)),  # outside the window
    ]
    dora = dora_compute(rows, {}, weeks=2, now=NOW)
    assert [w.deployments for w in dora.weeks] == [1, 2]
    assert dora.per_week == 1.5


def test_lead_time_is_the_median_from_commit_to_production_success():
    finished = MONDAY + timedelta(days=1)
    rows = [row(1, finished=finished, committed=finished - timedelta(hours=h)) for h in (2, 10, 30)]
    rows.append(row(4, finished=finished))  # commit time unknown: not counted
    week = dora_compute(rows, {}, weeks=1, now=NOW).weeks[0]
    assert week.lead_time_hours == 10.0


def test_aborted_rolled_back_and_incident_followed_releases_are_failed_changes():
    t = MONDAY + timedelta(hours=1)
    rows = [
        row(1, "aborted", finished=t),
        row(2, finished=t + timedelta(hours=1)),  # rolled back by 3
        row(3, finished=t + timedelta(hours=2), rollback_of=2),
        row(4, finished=t + timedelta(hours=3), component=2),  # incident within 24 h
        row(5, finished=t + timedelta(hours=4), component=3),  # incident after 24 h: fine
        row(6, finished=t + timedelta(hours=30), component=2),  # restores 4
    ]
    incidents = {2: [t + timedelta(hours=5)], 3: [t + timedelta(hours=4 + 25)]}
    week = dora_compute(rows, seconds(incidents), weeks=1, now=NOW).weeks[0]
    assert week.changes == 6 and week.deployments == 5
    assert week.failures == 3  # 1 aborted, 2 rolled back, 4 incident
    assert week.failure_rate == 50.0


def test_time_to_restore_runs_from_the_failure_to_the_next_healthy_release():
    t = MONDAY + timedelta(hours=1)
    rows = [
        row(1, "aborted", finished=t),
        row(2, finished=t + timedelta(hours=2)),  # restores the abort after 2 h
        row(3, "aborted", finished=t + timedelta(hours=10)),  # nothing healthy since: open
        row(7, "aborted", finished=t, component=9),
        row(8, finished=t + timedelta(hours=6), component=9),  # restores after 6 h
    ]
    week = dora_compute(rows, {}, weeks=1, now=NOW).weeks[0]
    assert week.restored == 2  # 2 h and 6 h; the third is still open
    assert week.restore_time_hours == 4.0


def test_other_services_healthy_releases_do_not_restore_a_failure():
    t = MONDAY + timedelta(hours=1)
    rows = [row(1, "aborted", finished=t), row(2, finished=t + timedelta(hours=1), component=2)]
    assert dora_compute(rows, {}, weeks=1, now=NOW).weeks[0].restored == 0
