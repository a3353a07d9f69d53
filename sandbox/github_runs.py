"""Runs of the shipped workflow in the GitHub sandbox: its jobs and steps, one at a time.

`WorkflowRuns` is mixed into `GitHubSandbox` (sandbox/github.py); the workflow itself is read by
`sandbox/github_workflow.py` from examples/github/deploy.yml. See docs/release-sandboxes.md.
"""

import contextlib
import copy
import io
import itertools
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

from . import github_shapes as shapes
from .demo import app_values
from .github_workflow import (
    Workflow,
    client_argv,
    commit_message,
    condition_holds,
    example_client,
    interpolate,
    run_inputs,
    shell_lines,
    yq_assignments,
)
from .gitops import GitOpsError, gitops_repo
from .web import time_scale

SANDBOX_ACTOR = "switchyard-sandbox"  # github.actor: the token's user
APPROVAL_POLL_SECONDS = 1.0
QUEUED_SECONDS = 1.0
STEP_SECONDS = 0.8
ids = itertools.count(1000)  # every id the GitHub sandbox hands out


@dataclass
class Run:
    id: int
    repo: object  # sandbox.github.Repo
    run_number: int
    inputs: dict
    ref: str
    head_sha: str
    created_at: float
    display_title: str
    status: str = "queued"
    conclusion: str | None = None
    started_at: float | None = None
    updated_at: float = 0.0
    steps: list[dict] = field(default_factory=list)
    waiting_environment: str | None = None
    review: dict | None = None
    reviewed: threading.Event = field(default_factory=threading.Event)
    gitops_revision: str = ""
    deployment: dict | None = None
    workflow: Workflow | None = None


class WorkflowRuns:
    """Needs `self.state`, `self.lock`, `self.base` and `self.deployment_add` (GitHubSandbox)."""

    def run_start(self, repo, body: dict, workflow: Workflow) -> Run:
        inputs = run_inputs(workflow, body.get("inputs") or {})
        now = time.time()
        run = Run(
            id=next(ids),
            repo=repo,
            run_number=len(repo.runs) + 1,
            inputs=inputs,
            ref=body["ref"],
            head_sha=shapes.fake_sha(f"{repo.full_name}@{body['ref']}"),
            created_at=now,
            updated_at=now,
            display_title=interpolate(workflow.run_name, {"inputs": inputs}) or workflow.name,
            steps=[
                {"name": step.name, "job": job.id, "status": "queued", "conclusion": None}
                for job in workflow.jobs
                for step in job.steps
            ],
            workflow=workflow,
        )
        repo.runs.append(run)
        threading.Thread(
            target=self.run_execute, args=(run,), name=f"github-run-{run.id}", daemon=True
        ).start()
        return run

    # ---- the deploy workflow (examples/github/deploy.yml, see sandbox/github_workflow.py) ----

    def pause(self, seconds: float) -> None:
        time.sleep(seconds * time_scale(self.state))

    def step(self, run: Run, index: int, status: str, conclusion: str | None = None) -> None:
        with self.lock:
            now = time.time()
            step = run.steps[index]
            step["status"], step["conclusion"] = status, conclusion
            step.setdefault("started_at", now)
            if status == "completed":
                step["completed_at"] = now
            run.updated_at = now

    def run_finish(self, run: Run, conclusion: str, failed_step: int | None = None) -> None:
        with self.lock:
            if failed_step is not None:
                self.step(run, failed_step, "completed", "failure")
            for step in run.steps:
                if step["status"] != "completed":
                    step["status"], step["conclusion"] = "completed", "skipped"
            run.status, run.conclusion, run.updated_at = "completed", conclusion, time.time()

    def run_context(self, run: Run) -> dict:
        """What the workflow's `${{ }}` expressions see."""
        credentials = self.state.shared.get("switchyard_machine") or {}
        return {
            "inputs": run.inputs,
            "github": {
                "actor": SANDBOX_ACTOR,
                "server_url": self.base,
                "repository": run.repo.full_name,
                "run_id": str(run.id),
            },
            "vars": {},
            "secrets": {
                "SWITCHYARD_TOKEN": credentials.get("token", ""),
                "SWITCHYARD_SIGNING_SECRET": credentials.get("secret", ""),
            },
        }

    def run_execute(self, run: Run) -> None:
        """The workflow's jobs in order: a job whose `if:` is false is skipped, a job with an
        `environment:` waits for its required reviewers first, a failing step fails the run."""
        self.pause(QUEUED_SECONDS)
        with self.lock:
            run.status, run.started_at = "in_progress", time.time()
        context = self.run_context(run)
        first = 0
        for job in run.workflow.jobs:
            numbers = range(first, first + len(job.steps))
            first += len(job.steps)
            if not condition_holds(job.condition, context):
                continue  # its steps end "skipped"
            environment = interpolate(job.environment, context)
            if environment and not self.environment_wait(run, environment):
                return
            for number, step in zip(numbers, job.steps, strict=True):
                self.step(run, number, "in_progress")
                self.pause(STEP_SECONDS)
                problem = self.step_run(run, step, context)
                if problem:
                    run.steps[number]["message"] = problem
                    return self.run_finish(run, "failure", failed_step=number)
                self.step(run, number, "completed", "success")
            if environment:
                with self.lock:
                    deployment = run.deployment or self.deployment_add(run.repo, run, environment)
                    shapes.deployment_status_add(self.base, run.repo, deployment, "success")
        self.run_finish(run, "success")

    def environment_wait(self, run: Run, environment: str) -> bool:
        """A protected environment's review; False when the run ended there."""
        if environment not in run.repo.protected_environments:
            return True
        with self.lock:
            run.status, run.waiting_environment = "waiting", environment
        if not run.reviewed.wait(timeout=24 * 3600):
            self.run_finish(run, "timed_out")
            return False
        with self.lock:
            run.status, run.waiting_environment = "in_progress", None
        if run.review and run.review["state"] == "rejected":
            self.run_finish(run, "failure")
            return False
        return True

    def step_run(self, run: Run, step, context: dict) -> str:
        """Run one step; '' when it succeeded, else what failed."""
        if step.uses:
            if step.uses.startswith("actions/checkout@"):
                return ""  # the sandbox's repositories have no working tree to check out
            return f"the sandbox cannot run the action {step.uses}"
        env = {name: interpolate(str(value), context) for name, value in step.env.items()}
        pending: dict = {}
        for line in shell_lines(interpolate(step.run, context)):
            problem = self.shell_line(run, line, env, pending)
            if problem:
                return problem
        return ""

    def shell_line(self, run: Run, line: str, env: dict, pending: dict) -> str:
        """One command of a `run:` script, as the runner's bash would have it take effect."""
        if line.startswith("[["):
            done = subprocess.run(
                ["bash", "-c", line], env={"PATH": os.environ.get("PATH", ""), **env},
                capture_output=True, text=True, timeout=10,
            )  # fmt: skip
            return "" if done.returncode == 0 else done.stdout.strip().removeprefix("::error::")
        if "git rev-parse" in line and "refs/tags/" in line:
            version = env.get("VERSION", "")
            if version.removeprefix("v") not in {v for v, _ in run.repo.versions}:
                return f"no tag {version}: it is not a release of {run.repo.full_name}"
            return ""
        argv = client_argv(line, env)
        if argv is not None:
            output, problem = self.client_run(run, argv, env)
            if not problem and "=$(" in line.replace('"', ""):
                env[line.split("=", 1)[0].strip()] = output
            return problem
        assignments = yq_assignments(line, env)
        if assignments is not None:
            pending.update(assignments)
            return ""
        message = commit_message(line, env)
        if message is not None:
            return self.gitops_commit(run, env, pending, message)
        return ""  # mkdir, touch, git config / add / push: nothing of their own here

    def client_run(self, run: Run, argv: list[str], env: dict) -> tuple[str, str]:
        """`switchyard_client.py ARGV` through the shipped client: (stdout, problem)."""
        client = example_client()
        complaint = io.StringIO()
        try:
            with contextlib.redirect_stderr(complaint):
                args = client.build_parser().parse_args(argv)
        except SystemExit:
            said = complaint.getvalue().strip().splitlines()
            return "", f"switchyard_client.py {' '.join(argv)}: {said[-1] if said else 'failed'}"
        if args.command == "rollout":
            try:
                return json.dumps(client.rollout_config(args.strategy, args.steps or "")), ""
            except ValueError as exc:
                return "", str(exc)
        outcome = self.approval_wait(run, client, args, env)
        return "", "" if outcome == "approved" else f"Switchyard answered: {outcome}"

    def approval_wait(self, run: Run, client, args, env: dict) -> str:
        """The workflow's pause point: ask Switchyard for a decision and wait for it."""
        base = env.get("SWITCHYARD_URL", "").rstrip("/")
        token, secret = env.get("SWITCHYARD_TOKEN"), env.get("SWITCHYARD_SIGNING_SECRET")
        if not (base and token and secret):
            return "not asked: no Switchyard callback URL or machine credentials"
        try:
            state = client.call(
                "POST", f"{base}/api/approvals/", token, secret, client.approval_body(args)
            )
            created = state
            while state["state"] == "pending":
                self.pause(APPROVAL_POLL_SECONDS)
                state = client.call("GET", f"{base}/api/approvals/{created['id']}", token, secret)
        except SystemExit as exc:  # the client reports HTTP errors this way
            return f"error: {exc}"
        return state["state"]

    def gitops_commit(self, run: Run, env: dict, pending: dict, message: str) -> str:
        """`yq -i` edits then `git commit` + `git push`: one commit in the GitOps repository."""
        service, environment = env.get("SERVICE", ""), env.get("ENVIRONMENT", "")
        repo = gitops_repo(self.state)
        _, apps = repo.applications()
        values = copy.deepcopy(apps.get((service, environment)))
        values = values or app_values(service, environment, "", "", {})
        for path, value in pending.items():
            *parents, last = path.split(".")
            target = values
            for part in parents:
                target = target.setdefault(part, {})
            target[last] = value
        try:
            revision = repo.write(
                service,
                environment,
                values,
                f"{message}\n\nWorkflow run {run.id} of {run.repo.full_name}.",
            )
        except (GitOpsError, ValueError) as exc:
            return str(exc)
        with self.lock:
            run.gitops_revision = revision
        return ""
