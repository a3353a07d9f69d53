"""The Rollout controller simulation, driven with explicit clock values."""

import pytest

from sandbox.demo import rollout_config
from sandbox.rollouts import (
    RolloutActionError,
    merge_patch,
    rollout_action_patch,
    rollout_new,
    rollout_reconcile,
    rollout_set_desired,
)

T0 = 1_000_000.0


def _rollout(steps="10,pause,50,pause:30s,100", strategy="canary"):
    obj = rollout_new(
        namespace="default", name="svc", image="img:1", config=rollout_config(strategy, steps)
    )
    rollout_reconcile(obj, T0)
    rollout_set_desired(obj, image="img:2", config=rollout_config(strategy, steps))
    rollout_reconcile(obj, T0)
    return obj


def _act(obj, action, now):
    merge_patch(obj, rollout_action_patch(obj, action, now))
    return rollout_reconcile(obj, now)


def test_first_revision_is_stable_at_once():
    obj = rollout_new(
        namespace="default", name="svc", image="img:1", config=rollout_config("canary")
    )
    status = rollout_reconcile(obj, T0)["status"]
    assert status["phase"] == "Healthy"
    assert status["stableRS"] == status["currentPodHash"]
    assert status["currentStepIndex"] == 7


def test_canary_waits_for_pods_then_pauses_then_times_out_its_timed_pause():
    obj = _rollout()
    assert obj["status"]["phase"] == "Progressing"
    assert obj["status"]["canary"]["weights"]["canary"]["weight"] == 0
    status = rollout_reconcile(obj, T0 + 1.5)["status"]
    assert (status["phase"], status["currentStepIndex"]) == ("Paused", 1)
    assert status["canary"]["weights"]["canary"]["weight"] == 10
    assert rollout_reconcile(obj, T0 + 100)["status"]["currentStepIndex"] == 1  # indefinite
    _act(obj, "resume", T0 + 100)
    status = rollout_reconcile(obj, T0 + 101.5)["status"]
    assert (status["currentStepIndex"], status["pauseConditions"][0]["reason"]) == (
        3,
        "CanaryPauseStep",
    )
    status = rollout_reconcile(obj, T0 + 131.5)["status"]
    assert status["phase"] == "Progressing"  # the timed pause ended, the last step starts
    status = rollout_reconcile(obj, T0 + 134)["status"]
    assert status["phase"] == "Healthy"
    assert status["stableRS"] == status["currentPodHash"]


def test_skip_current_step_leaves_an_indefinite_pause():
    obj = _rollout()
    rollout_reconcile(obj, T0 + 1.5)
    status = _act(obj, "skip-current-step", T0 + 2)["status"]
    assert status["currentStepIndex"] == 2
    assert not status.get("pauseConditions")


def test_pause_action_holds_the_rollout_until_resumed():
    obj = _rollout("10,50,100")
    _act(obj, "pause", T0 + 0.5)
    assert rollout_reconcile(obj, T0 + 50)["status"]["phase"] == "Paused"
    _act(obj, "resume", T0 + 50)
    assert rollout_reconcile(obj, T0 + 55)["status"]["phase"] == "Healthy"


def test_abort_then_retry_restarts_from_the_first_step():
    obj = _rollout()
    rollout_reconcile(obj, T0 + 1.5)
    status = _act(obj, "abort", T0 + 2)["status"]
    assert status["phase"] == "Degraded"
    assert status["canary"]["weights"]["canary"]["weight"] == 0
    assert status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    with pytest.raises(RolloutActionError, match="disabled"):
        rollout_action_patch(obj, "promote-full", T0 + 3)
    status = _act(obj, "retry", T0 + 3)["status"]
    assert (status["phase"], status["currentStepIndex"]) == ("Progressing", 0)
    assert "abortedAt" not in status


def test_blue_green_promotes_on_resume():
    obj = _rollout(strategy="bluegreen")
    status = rollout_reconcile(obj, T0 + 1.5)["status"]
    assert status["pauseConditions"][0]["reason"] == "BlueGreenPause"
    assert status["blueGreen"]["previewSelector"] == status["currentPodHash"]
    assert status["blueGreen"]["activeSelector"] == status["stableRS"] != status["currentPodHash"]
    status = _act(obj, "resume", T0 + 2)["status"]
    assert status["blueGreen"]["activeSelector"] == status["currentPodHash"]
    assert status["phase"] == "Healthy"


def test_unknown_action_is_refused():
    with pytest.raises(RolloutActionError, match="not available"):
        rollout_action_patch(_rollout(), "delete-everything", T0)
