"""The shipped workflow is valid, and it is what the GitHub sandbox checks and runs."""

import json
import subprocess

import pytest
import requests
import yaml

from integrations.tests.conftest import wait_until
from sandbox.demo import demo_service_names, demo_versions
from sandbox.github_workflow import (
    MAX_INPUTS,
    WORKFLOW_FILE,
    _parse,
    condition_holds,
    dispatch_problem,
    evaluate,
    run_inputs,
    workflow_load,
)

SERVICE = demo_service_names(1)[0]
TOKEN = {"Authorization": "Bearer switchyard-sandbox"}


def workflow_document(text: str) -> dict:
    doc = yaml.safe_load(text)
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the bare key `on` as true; GitHub does not
    return doc


@pytest.fixture(scope="module")
def workflow_schema(shared_dir):
    import jsonschema

    schema = json.loads((shared_dir / "specs/github-actions/github-workflow.json").read_text())
    return jsonschema.Draft7Validator(schema)


def test_shipped_workflow_matches_the_github_workflow_schema(workflow_schema):
    errors = list(workflow_schema.iter_errors(workflow_document(WORKFLOW_FILE.read_text())))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_schema_check_catches_a_broken_workflow(workflow_schema):
    doc = workflow_document(WORKFLOW_FILE.read_text())
    del doc["jobs"]["gitops"]["runs-on"]
    doc["on"]["workflow_dispatch"]["inputs"]["strategy"].pop("options")
    assert len(list(workflow_schema.iter_errors(doc))) >= 2


# ---- dispatch validation, as GitHub does it --------------------------------------------------

TYPED = """
on:
  workflow_dispatch:
    inputs:
      name: {required: true, type: string}
      level: {type: choice, options: [low, high], default: low}
      dry_run: {type: boolean, default: false}
      count: {type: number}
jobs: {}
"""


def test_every_kind_of_input_is_checked():
    workflow = _parse(yaml.safe_load(TYPED))
    assert dispatch_problem(workflow, {"name": "a", "level": "high", "dry_run": True}) == ""
    assert dispatch_problem(workflow, {"name": "a", "count": "3.5", "dry_run": "false"}) == ""
    assert dispatch_problem(workflow, {"level": "low"}) == "Required input 'name' not provided"
    assert dispatch_problem(workflow, {"name": "a", "level": "mid"}) == (
        "Provided value 'mid' for input 'level' not in the list of allowed values"
    )
    assert dispatch_problem(workflow, {"name": "a", "dry_run": "yes"}) == (
        "Provided value 'yes' for input 'dry_run' not in the list of allowed values"
    )
    assert dispatch_problem(workflow, {"name": "a", "count": "many"}) == (
        "Provided value 'many' for input 'count' is not a valid number"
    )
    assert dispatch_problem(workflow, {"name": "a", "other": "x", "actor": "y"}) == (
        'Unexpected inputs provided: ["actor", "other"]'
    )


def test_defaults_fill_the_run_inputs():
    workflow = _parse(yaml.safe_load(TYPED))
    assert run_inputs(workflow, {"name": "a", "dry_run": True}) == {
        "name": "a", "level": "low", "dry_run": "true", "count": "",
    }  # fmt: skip


def test_a_workflow_declaring_more_than_25_inputs_is_invalid():
    inputs = {f"i{n}": {"type": "string"} for n in range(MAX_INPUTS + 1)}
    with pytest.raises(ValueError, match="at most 25 inputs"):
        _parse({True: {"workflow_dispatch": {"inputs": inputs}}, "jobs": {}})


def test_expressions_and_conditions():
    context = {"inputs": {"approval": "required", "callback_url": ""}, "vars": {"URL": "http://s"}}
    assert condition_holds("inputs.approval == 'required'", context)
    assert not condition_holds("${{ inputs.approval != 'required' }}", context)
    assert evaluate("inputs.callback_url || vars.URL", context) == "http://s"
    assert condition_holds("!(inputs.approval == 'none') && vars.URL", context)


def _dispatch(release_sandbox, inputs: dict):
    url = f"{release_sandbox.endpoints['github']}/repos/example/{SERVICE}/actions/workflows"
    return requests.post(
        f"{url}/deploy.yml/dispatches",
        json={"ref": "main", "inputs": inputs, "return_run_details": True},
        headers=TOKEN,
        timeout=5,
    )


def _inputs(**extra) -> dict:
    version = demo_versions(SERVICE)[-1]
    return {"service": SERVICE, "environment": "staging", "version": version,
            "release_id": "3", **extra}  # fmt: skip


def test_sandbox_refuses_inputs_the_shipped_workflow_does_not_declare(release_sandbox):
    answer = _dispatch(release_sandbox, _inputs(deploy_target="eu"))
    assert answer.status_code == 422
    assert answer.json()["message"] == 'Unexpected inputs provided: ["deploy_target"]'
    answer = _dispatch(release_sandbox, _inputs(strategy="yolo"))
    assert answer.status_code == 422
    assert "for input 'strategy' not in the list of allowed values" in answer.json()["message"]


def test_sandbox_refuses_more_than_25_inputs_and_payloads_over_65535_characters(release_sandbox):
    many = {f"extra_{n}": "x" for n in range(MAX_INPUTS)}
    assert _dispatch(release_sandbox, _inputs(**many)).status_code == 422
    answer = _dispatch(release_sandbox, _inputs(steps="5," * 33_000))
    assert answer.status_code == 422
    assert "65535" in answer.json()["message"]
    assert release_sandbox.state.shared["github"].repos[f"example/{SERVICE}"].runs == []


def _run(release_sandbox, inputs):
    answer = _dispatch(release_sandbox, inputs)
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["workflow_run_id"]
    url = f"{release_sandbox.endpoints['github']}/repos/example/{SERVICE}/actions/runs/{run_id}"
    wait_until(lambda: requests.get(url, headers=TOKEN, timeout=5).json()["status"] == "completed")
    jobs = requests.get(f"{url}/jobs", headers=TOKEN, timeout=5).json()["jobs"][0]
    return requests.get(url, headers=TOKEN, timeout=5).json(), jobs["steps"]


def test_a_run_executes_the_shipped_steps_and_writes_the_clients_rollout(release_sandbox):
    run, steps = _run(release_sandbox, _inputs(strategy="canary", steps="10,pause,100"))
    assert run["conclusion"] == "success"
    declared = [s.name for job in workflow_load().jobs for s in job.steps]
    assert [s["name"] for s in steps] == declared
    # approval: none (the default), so the approval job's steps are skipped.
    assert [s["conclusion"] for s in steps][-2:] == ["skipped", "skipped"]
    values = release_sandbox.state.directory / "gitops/apps" / SERVICE / "staging/values.yaml"
    written = yaml.safe_load(values.read_text())
    assert written["image"]["tag"] == demo_versions(SERVICE)[-1]
    assert written["release"]["id"] == "3"
    client = subprocess.run(
        ["python3", str(WORKFLOW_FILE.parent / "switchyard_client.py"), "rollout",
         "--strategy", "canary", "--steps", "10,pause,100"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert written["rollout"] == json.loads(client.stdout)


def test_bad_canary_steps_fail_the_validation_step_with_the_clients_message(release_sandbox):
    before = sorted((release_sandbox.state.directory / "gitops").rglob("values.yaml"))
    run, steps = _run(release_sandbox, _inputs(strategy="canary", steps="5,wait,100"))
    assert run["conclusion"] == "failure"
    failed = [s for s in steps if s["conclusion"] == "failure"]
    assert [s["name"] for s in failed] == ["Validate inputs"]
    sandbox = release_sandbox.state.shared["github"]
    message = sandbox.repos[f"example/{SERVICE}"].runs[-1].steps[1]["message"]
    assert "canary step 'wait' must be a weight" in message
    assert sorted((release_sandbox.state.directory / "gitops").rglob("values.yaml")) == before
