"""Analysis gates: the policy check before a save, and the machine steps beat runs.

Machine steps move state with conditional updates only: a step's evaluation is claimed by moving
its `next_evaluation_at` from the value read, a verdict is unique per (step, slot), an outcome
changes only from "analysing". A fail aborts through the release abort service itself, as
`machine:analysis`, with the values; a step that soaked and passes lets the canary go on (or, in
an environment with approvals, leaves the decision to the approvers).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Environment
from deployments.releases.errors import ReleaseRefused
from deployments.releases.models import Release
from deployments.releases.transitions import release_transition
from integrations.errors import IntegrationError
from portal.audit import audit_record

from .evaluate import Decision, evaluate_many, loki_configured
from .models import AnalysisPolicy, AnalysisStep, AnalysisVerdict

MACHINE = "machine:analysis"
ANALYSED_STATES = (Release.State.PROGRESSING, Release.State.PAUSED)
# What an evaluation reads of a step's release, service and environment (see evaluate, logs).
EVALUATED_FIELDS = (
    "step", "weight", "started_at", "soak_ends_at", "next_evaluation_at", "outcome",
    "release__version", "release__previous_version", "release__component_id",
    "release__environment_id", "release__component__name",
    "release__environment__name", "release__environment__kube_namespace",
    "release__environment__log_selector", "release__environment__log_version_label",
    "release__environment__analysis_policy",
)  # fmt: skip
SWEEP_BATCH = 500  # steps evaluated together: their Prometheus queries and verdict insert
logger = logging.getLogger(__name__)


def analysis_policy_problems(policy: AnalysisPolicy) -> list[str]:
    """Why `policy` cannot be evaluated in its environment (empty when it can). Asks
    Prometheus whether the latency histogram exists; called before a policy is saved."""
    problems = []
    if policy.max_p99_latency_ms is not None:
        from integrations.prometheus import prometheus_client

        bucket = f"{policy.latency_metric}_bucket"
        try:
            found = prometheus_client().series_exist(bucket, environment=policy.environment.name)
        except IntegrationError as exc:
            problems.append(
                f"Prometheus could not be asked whether {bucket} exists ({exc.message}): "
                "try again when it answers, or leave the p99 threshold empty."
            )
        else:
            if not found:
                problems.append(
                    f"Prometheus has no latency histogram {bucket} in {policy.environment}: "
                    "the p99 cannot be computed. Name a histogram it has, or leave the p99 "
                    "threshold empty."
                )
    if policy.max_error_log_lines_per_minute is not None:
        problems += _loki_problems(policy.environment)
    return problems


def _loki_problems(environment: Environment) -> list[str]:
    """Why Loki cannot count the error lines of a version in `environment` (empty: it can)."""
    if not loki_configured():
        return [
            "Loki is not configured (LOKI_URL): error log lines cannot be counted. Leave that "
            "threshold empty until it is."
        ]
    from integrations.loki import loki_client

    label = environment.log_version_label
    try:
        known = loki_client().labels()
    except IntegrationError as exc:
        return [
            f"Loki could not be asked whether it has the label {label!r} ({exc.message}): try "
            "again when it answers, or leave the error log threshold empty."
        ]
    if label not in known:
        return [
            f"Loki has no label {label!r}, which {environment} names as the version of a log "
            "line: error lines cannot be counted per version. Set the environment's log "
            "version label (Environments), or leave the error log threshold empty."
        ]
    return []


def analysis_gated(environment_id: int) -> bool:
    """Whether the environment's first canary pause waits for approvers (an approval policy)."""
    return Environment.objects.filter(pk=environment_id, approval_policy__isnull=False).exists()


def analysis_steps_open(*, now=None) -> int:
    """Open an AnalysisStep for every analysed canary at a step without one; end the steps of
    releases that moved on. Returns how many were opened."""
    now = now or timezone.now()
    candidates = list(
        Release.objects.filter(
            strategy=Release.Strategy.CANARY,
            state__in=ANALYSED_STATES,
            current_step__isnull=False,
            set_weight__lt=100,
            environment__analysis_policy__isnull=False,
        ).values_list(
            "pk", "current_step", "set_weight", "environment__analysis_policy__soak_seconds"
        )
    )
    known = set(
        AnalysisStep.objects.filter(release_id__in=[c[0] for c in candidates]).values_list(
            "release_id", "step"
        )
    )
    new = [
        AnalysisStep(
            release_id=pk,
            step=step,
            weight=weight,
            started_at=now,
            soak_ends_at=now + timedelta(seconds=soak),
            next_evaluation_at=now,
        )
        for pk, step, weight, soak in candidates
        if (pk, step) not in known
    ]
    AnalysisStep.objects.bulk_create(new, ignore_conflicts=True)
    open_steps = AnalysisStep.objects.filter(outcome=AnalysisStep.Outcome.ANALYSING)
    ended = open_steps.exclude(release__state__in=ANALYSED_STATES) | open_steps.exclude(
        step=F("release__current_step")
    )
    AnalysisStep.objects.filter(pk__in=ended.values("pk")).update(
        outcome=AnalysisStep.Outcome.ENDED, decided_at=now
    )
    return len(new)


def analysis_steps_due(*, now=None, limit: int = 1000) -> list[tuple[int, int]]:
    """Claim the open steps whose evaluation time has come: [(step id, slot)]. The rows are
    locked (SKIP LOCKED: two ticks at once share the work, never a step) and moved on by one
    update per evaluation interval; the slot is the evaluation time that was due."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            AnalysisStep.objects.filter(
                outcome=AnalysisStep.Outcome.ANALYSING, next_evaluation_at__lte=now
            )
            .order_by("next_evaluation_at")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(
                "pk",
                "next_evaluation_at",
                "release__environment__analysis_policy__interval_seconds",
            )[:limit]
        )
        by_interval: dict[int, list[int]] = {}
        for pk, _, interval in due:
            by_interval.setdefault(interval, []).append(pk)
        for interval, pks in by_interval.items():
            AnalysisStep.objects.filter(pk__in=pks).update(
                next_evaluation_at=now + timedelta(seconds=interval)
            )
    return [(pk, int(at.timestamp() * 1000)) for pk, at, _ in due]


def analysis_step_evaluate(*, step_id: int, slot: int) -> AnalysisVerdict | None:
    """Evaluate one claimed step once; None when this slot was evaluated already."""
    verdicts = analysis_steps_evaluate([(step_id, slot)])
    return verdicts[0] if verdicts else None


def analysis_steps_evaluate(claimed: list[tuple[int, int]]) -> list[AnalysisVerdict]:
    """Evaluate claimed steps together (a few queries to Prometheus for all of them, one insert
    of their verdicts), then act on each new verdict: a fail aborts, a pass after the soak lets
    the canary go on. Returns the verdicts written (none for a slot evaluated already; bulk
    inserted, so without their ids on PostgreSQL)."""
    slots = dict(claimed)
    steps = list(
        AnalysisStep.objects.select_related(
            "release__component", "release__environment__analysis_policy"
        )
        .only(*EVALUATED_FIELDS)  # 500 wide release rows cost more to build than to fetch
        .filter(pk__in=slots, outcome=AnalysisStep.Outcome.ANALYSING)
    )
    if not steps:
        return []
    decisions = evaluate_many(steps)
    written = _verdicts_record(steps, slots, decisions)
    by_pk = {step.pk: step for step in steps}
    now = timezone.now()
    for verdict in written:
        step, decision = by_pk[verdict.step_id], decisions[verdict.step_id]
        if decision.verdict == AnalysisVerdict.Verdict.FAIL:
            _step_fail(step, decision)
        elif decision.verdict == AnalysisVerdict.Verdict.PASS and now >= step.soak_ends_at:
            if AnalysisStep.objects.filter(
                pk=step.pk, outcome=AnalysisStep.Outcome.ANALYSING
            ).update(outcome=AnalysisStep.Outcome.PASSED, decided_at=now):
                analysis_step_proceed(step_id=step.pk)
    return written


def _verdicts_record(steps, slots: dict, decisions: dict) -> list[AnalysisVerdict]:
    """Insert the verdicts of slots that have none (one query to look, one to insert). The
    claim gives each slot to one tick; the unique (step, slot) constraint keeps a late
    duplicate out anyway, and the outcome changes after it are conditional."""
    taken = set(
        AnalysisVerdict.objects.filter(step__in=slots, slot__in=set(slots.values())).values_list(
            "step_id", "slot"
        )
    )
    new = [
        AnalysisVerdict(
            step=step,
            slot=slots[step.pk],
            verdict=decisions[step.pk].verdict,
            message=decisions[step.pk].message[:500],
            values=decisions[step.pk].values,
        )
        for step in steps
        if (step.pk, slots[step.pk]) not in taken
    ]
    AnalysisVerdict.objects.bulk_create(new, ignore_conflicts=True)
    return new


def _step_fail(step: AnalysisStep, decision: Decision) -> None:
    if AnalysisStep.objects.filter(pk=step.pk, outcome=AnalysisStep.Outcome.ANALYSING).update(
        outcome=AnalysisStep.Outcome.FAILED, decided_at=timezone.now()
    ):
        _abort(step, decision.message, decision.values)


def _abort(step: AnalysisStep, message: str, values: dict) -> None:
    """Abort the failed step's release; refused (Argo CD unreadable) leaves it for the next tick
    (`analysis_aborts_retry`), so a failed canary is never left running."""
    from deployments.releases.services import release_abort

    release = Release.objects.select_related("component__owner", "environment").get(
        pk=step.release_id
    )  # the whole row: the evaluation loaded only what it measures
    try:
        release_abort(
            actor=None,
            release=release,
            reason=f"analysis failed at {step.weight}%: {message}",
            machine=MACHINE,
            evidence={"step": step.step, "weight": step.weight, **values},
        )
    except ReleaseRefused as exc:
        logger.warning("analysis abort of release %s refused: %s", step.release_id, exc)
        return
    from deployments.trains.machine import train_release_aborted

    train_release_aborted(release_id=step.release_id)
    # The owners hear of it through the notifications outbox, with the reason and the values:
    # the abort's transition writes their rows (deployments.releases.transitions).


def analysis_aborts_retry() -> int:
    """Failed steps whose release is still active (the abort was refused): abort again."""
    pending = AnalysisStep.objects.filter(
        outcome=AnalysisStep.Outcome.FAILED, release__state__in=Release.ACTIVE_STATES
    ).select_related("release__component", "release__environment")
    count = 0
    for step in pending:
        failed = step.verdicts.filter(verdict=AnalysisVerdict.Verdict.FAIL).last()
        if failed:
            _abort(step, failed.message, failed.values)
            count += 1
    return count


def analysis_step_proceed(*, step_id: int) -> bool:
    """A passed step whose release is paused at it goes on to the next step, unless approvers
    decide there (the first pause of a gated environment). True when it was promoted."""
    from deployments.releases import tasks as release_tasks

    step = AnalysisStep.objects.select_related("release").get(pk=step_id)
    release = step.release
    if step.outcome != AnalysisStep.Outcome.PASSED:
        return False
    if step.step == 0 and analysis_gated(release.environment_id):
        return False  # the approval is offered now (analysis_gate_open) and people decide
    with transaction.atomic():
        # Once per step, even when the Rollout takes a while to leave its pause.
        if not AnalysisStep.objects.filter(pk=step.pk, promoted_at__isnull=True).update(
            promoted_at=timezone.now()
        ):
            return False
        moved = release_transition(
            release_id=release.pk,
            from_states=[Release.State.PAUSED],
            to_state=Release.State.PROGRESSING,
            message=f"{MACHINE}: {step.weight}% soaked and passed; going on",
            data={"analysis_step": step.step},
            where={"current_step": step.step},
        )
        if not moved:
            transaction.set_rollback(True)  # not paused there yet: the claim waits for it
            return False
        if moved:
            audit_record(
                actor=None,
                actor_label=MACHINE,
                action="release.promote",
                target=release,
                component=release.component,
                environment=release.environment.name,
                before={"step": step.step},
                after={"analysis": "passed"},
            )
            transaction.on_commit(lambda: release_tasks.release_signal.delay(release.pk, "resume"))
    return moved


def analysis_steps_waiting() -> list[int]:
    """Passed steps whose release reached its pause after the step passed."""
    return list(
        AnalysisStep.objects.filter(
            outcome=AnalysisStep.Outcome.PASSED,
            promoted_at__isnull=True,
            release__state=Release.State.PAUSED,
            release__current_step=F("step"),
        ).values_list("pk", flat=True)
    )


def analysis_sweep(claimed: list[tuple[int, int]]) -> int:
    """Evaluate the claimed steps of a tick, in batches; one canary's surprise (or one batch's)
    must not stop the others. Returns how many were evaluated."""
    for start in range(0, len(claimed), SWEEP_BATCH):
        batch = claimed[start : start + SWEEP_BATCH]
        try:
            analysis_steps_evaluate(batch)
        except Exception:  # noqa: BLE001 - logged; evaluated again at their next interval
            logger.exception("analysis of steps %s failed", [pk for pk, _ in batch])
    return len(claimed)
