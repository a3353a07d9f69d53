"""GitHub: release versions, workflow dispatch and runs, environment approvals (PyGithub).

Configured by `endpoint("github")` (GITHUB_URL, else the sandbox) and `settings.GITHUB_TOKEN`.
PyGithub's own retries are off: Celery tasks retry transient IntegrationErrors with backoff.
"""

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import requests
from django.conf import settings
from github import Auth, Github, GithubException, RateLimitExceededException

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "github"
SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")
MAX_PROTO_FILES = 200
MAX_PROTO_BYTES = 5 * 1024 * 1024  # all files together
MAX_PROTO_DEPTH = 10


@dataclass(frozen=True)
class Version:
    name: str  # "1.4.2"
    tag: str  # "v1.4.2"
    published_at: datetime | None
    prerelease: bool = False


@dataclass(frozen=True)
class WorkflowRun:
    id: int
    status: str  # queued, in_progress, waiting, completed, ...
    conclusion: str | None  # success, failure, cancelled, timed_out, ... once completed
    display_title: str
    html_url: str
    run_number: int
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def succeeded(self) -> bool:
        return self.completed and self.conclusion == "success"

    @property
    def waiting(self) -> bool:
        """Paused at an environment's required reviewers (see pending deployments)."""
        return self.status == "waiting"


@dataclass(frozen=True)
class PendingDeployment:
    environment_id: int
    environment: str
    current_user_can_approve: bool


class GitHubClient(Protocol):
    def versions_list(self, repo: str, *, limit: int = 50) -> list[Version]: ...
    def workflow_dispatch(
        self, repo: str, workflow: str, ref: str, inputs: dict, *, run_name: str | None = None
    ) -> int: ...
    def workflow_run_get(self, repo: str, run_id: int) -> WorkflowRun: ...
    def version_committed_at(self, repo: str, version: str) -> datetime | None: ...
    def workflow_run_find(self, repo: str, workflow: str, run_name: str) -> WorkflowRun | None: ...
    def pending_deployments_list(self, repo: str, run_id: int) -> list[PendingDeployment]: ...
    def pending_deployments_review(
        self, repo: str, run_id: int, *, approve: bool, comment: str, environments=None
    ) -> list[int]: ...
    def proto_files_fetch(self, repo: str, path: str, *, ref: str) -> dict[str, str]: ...


def repo_full_name(repo: str) -> str:
    """'owner/name' from 'owner/name' or a repository URL such as https://github.com/o/n(.git)."""
    match = re.search(r"([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", repo.strip())
    if not match:
        raise IntegrationError(
            f"{repo!r} is not a GitHub repository", transient=False, system=SYSTEM
        )
    return f"{match[1]}/{match[2]}"


def _error(exc: Exception, doing: str) -> IntegrationError:
    if isinstance(exc, RateLimitExceededException):
        return IntegrationError(
            f"rate limited while {doing}", transient=True, system=SYSTEM, status=exc.status
        )
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        status = exc.status
        transient = status is None or status >= 500 or status == 429
        return IntegrationError(
            f"{doing}: HTTP {status} {message or exc}".strip(),
            transient=transient,
            system=SYSTEM,
            status=status,
        )
    if isinstance(exc, requests.Timeout):
        return IntegrationError(f"timed out while {doing}", transient=True, system=SYSTEM)
    return IntegrationError(f"{doing}: {exc}", transient=True, system=SYSTEM)


def _not_sent(exc: Exception) -> bool:
    """True when GitHub certainly did not act on the request: it refused it (4xx, rate limit)
    or no connection was made. A timeout or a 5xx may hide a dispatch that did happen."""
    if isinstance(exc, GithubException):
        return exc.status is not None and exc.status < 500
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)


class PyGithubClient:
    """The real client: PyGithub against GitHub, GitHub Enterprise or the sandbox."""

    def __init__(self, *, base_url: str, token: str, timeout: float, fallback_attempts: int = 5):
        if not token:
            raise IntegrationError("GITHUB_TOKEN is not set", transient=False, system=SYSTEM)
        self._github = Github(
            auth=Auth.Token(token),
            base_url=base_url,
            timeout=max(1, math.ceil(timeout)),  # PyGithub wants whole seconds
            retry=None,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,
        )
        self._fallback_attempts = fallback_attempts

    def _repo(self, repo: str):
        return self._github.get_repo(repo_full_name(repo))

    def versions_list(self, repo: str, *, limit: int = 50) -> list[Version]:
        """Release versions newest first; the tags when the repository has no releases."""
        try:
            found = self._repo(repo)
            versions = [
                Version(
                    name=r.tag_name.removeprefix("v"),
                    tag=r.tag_name,
                    published_at=r.published_at,
                    prerelease=r.prerelease,
                )
                for r in found.get_releases()[:limit]
                if not r.draft
            ]
            if not versions:
                versions = [
                    Version(name=t.name.removeprefix("v"), tag=t.name, published_at=None)
                    for t in found.get_tags()[:limit]
                    if SEMVER.match(t.name)
                ]
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, f"listing versions of {repo}")
        return versions

    def version_committed_at(self, repo: str, version: str) -> datetime | None:
        """When the commit a version's tag names was committed (DORA's lead time starts there);
        None when neither `v<version>` nor `<version>` names a commit."""
        refs = [version] if version.startswith("v") else [f"v{version}", version]
        for ref in refs:
            try:
                commit = self._repo(repo).get_commit(ref)
                return commit.commit.committer.date
            except GithubException as exc:
                if exc.status in (404, 422):
                    continue
                raise _error(exc, f"reading the commit of {repo}@{ref}")
            except requests.RequestException as exc:
                raise _error(exc, f"reading the commit of {repo}@{ref}")
        return None

    def workflow_dispatch(
        self, repo: str, workflow: str, ref: str, inputs: dict, *, run_name: str | None = None
    ) -> int:
        """Start `workflow` and return its run id.

        Asks for `return_run_details`; when the server answers 204 without them (older GitHub
        Enterprise), finds the run whose run-name contains `run_name` (default:
        "(release <inputs['release_id']>)"). If it has not appeared after a few tries this raises
        a transient IntegrationError: the dispatch did happen, so a retry should look for the run
        with `workflow_run_find` rather than dispatch again.
        """
        try:
            found = self._repo(repo).get_workflow(workflow)
            run = found.create_dispatch(
                ref, {k: str(v) for k, v in inputs.items()}, throw=True, return_run_details=True
            )
        except (GithubException, requests.RequestException) as exc:
            error = _error(exc, f"dispatching {workflow} in {repo}")
            error.delivered = False if _not_sent(exc) else None
            raise error from exc
        if run is not True and getattr(run, "id", None):
            return run.id
        run_name = run_name or f"(release {inputs.get('release_id', '')})"
        for attempt in range(self._fallback_attempts):
            match = self.workflow_run_find(repo, workflow, run_name)
            if match is not None:
                return match.id
            time.sleep(min(0.2 * 2**attempt, 2.0))
        raise IntegrationError(
            f"dispatched {workflow} in {repo} but no run named {run_name!r} appeared yet",
            transient=True,
            system=SYSTEM,
        )

    def workflow_run_find(self, repo: str, workflow: str, run_name: str) -> WorkflowRun | None:
        """The newest workflow_dispatch run of `workflow` whose run-name contains `run_name`."""
        try:
            runs = self._repo(repo).get_workflow(workflow).get_runs(event="workflow_dispatch")
            # Newest first; a slice of an empty PaginatedList raises, so count instead.
            for index, run in enumerate(runs):
                if index >= 50:
                    break
                if run_name in (run.display_title or ""):
                    return _run(run)
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, f"listing runs of {workflow} in {repo}")
        return None

    def workflow_run_get(self, repo: str, run_id: int) -> WorkflowRun:
        try:
            return _run(self._github.get_repo(repo_full_name(repo)).get_workflow_run(run_id))
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, f"reading workflow run {run_id} of {repo}")

    def _runs_url(self, repo: str, run_id: int) -> str:
        return f"/repos/{repo_full_name(repo)}/actions/runs/{int(run_id)}/pending_deployments"

    def pending_deployments_list(self, repo: str, run_id: int) -> list[PendingDeployment]:
        """Environments the run waits on for a review (empty when it waits on none)."""
        try:
            _, data = self._github.requester.requestJsonAndCheck(
                "GET", self._runs_url(repo, run_id)
            )
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, f"reading pending deployments of run {run_id}")
        return [
            PendingDeployment(
                environment_id=item["environment"]["id"],
                environment=item["environment"].get("name", ""),
                current_user_can_approve=bool(item.get("current_user_can_approve")),
            )
            for item in data or []
        ]

    def pending_deployments_review(
        self,
        repo: str,
        run_id: int,
        *,
        approve: bool,
        comment: str,
        environments: list[str] | None = None,
    ) -> list[int]:
        """Approve or reject the run's waiting environments (all, or those named).

        Returns the ids of the deployments GitHub created; raises a non-transient
        IntegrationError when nothing is waiting.
        """
        pending = [
            p
            for p in self.pending_deployments_list(repo, run_id)
            if environments is None or p.environment in environments
        ]
        if not pending:
            raise IntegrationError(
                f"run {run_id} of {repo} waits on no environment review",
                transient=False,
                system=SYSTEM,
            )
        body = {
            "environment_ids": [p.environment_id for p in pending],
            "state": "approved" if approve else "rejected",
            "comment": comment,
        }
        try:
            _, data = self._github.requester.requestJsonAndCheck(
                "POST", self._runs_url(repo, run_id), input=body
            )
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, f"reviewing pending deployments of run {run_id}")
        return [item["id"] for item in data or []]

    def proto_files_fetch(
        self,
        repo: str,
        path: str,
        *,
        ref: str,
        max_files: int = MAX_PROTO_FILES,
        max_bytes: int = MAX_PROTO_BYTES,
    ) -> dict[str, str]:
        """The .proto files under directory `path` at `ref`, keyed by their path below `path`.

        `path` is the include root (as the directory given to `import_protos`): a file
        `proto/a/v1/a.proto` fetched with `path="proto"` is `a/v1/a.proto`, the path other files
        import it by. Subdirectories are followed (at most 10 deep). More than `max_files` files
        or `max_bytes` in total, a file that is not UTF-8, or no .proto file at all raise a
        non-transient IntegrationError; GitHub errors go through `_error`.
        """
        root = path.strip().strip("/")
        doing = f"reading {root or '/'} at {ref} in {repo}"
        files: dict[str, str] = {}
        total = 0
        try:
            found = self._repo(repo)
            pending = [(root, 0)]
            while pending:
                directory, depth = pending.pop()
                listing = found.get_contents(directory, ref=ref)
                if not isinstance(listing, list):  # `path` is a file
                    listing = [listing]
                for item in sorted(listing, key=lambda i: i.path):
                    if item.type == "dir" and depth < MAX_PROTO_DEPTH:
                        pending.append((item.path, depth + 1))
                    if item.type != "file" or not item.path.endswith(".proto"):
                        continue
                    if len(files) >= max_files:
                        raise IntegrationError(
                            f"{doing}: more than {max_files} .proto files",
                            transient=False,
                            system=SYSTEM,
                        )
                    total += item.size or 0
                    if total > max_bytes:
                        raise IntegrationError(
                            f"{doing}: the .proto files are larger than {max_bytes} bytes",
                            transient=False,
                            system=SYSTEM,
                        )
                    content = found.get_contents(item.path, ref=ref)
                    files[_below(item.path, root)] = _text(content, doing)
        except (GithubException, requests.RequestException) as exc:
            raise _error(exc, doing)
        if not files:
            raise IntegrationError(
                f"{doing}: no .proto files there", transient=False, system=SYSTEM
            )
        return dict(sorted(files.items()))


def _below(path: str, root: str) -> str:
    if root and path.startswith(f"{root}/"):
        return path[len(root) + 1 :]
    return path.rsplit("/", 1)[-1] if root == path else path


def _text(content, doing: str) -> str:
    try:
        return content.decoded_content.decode("utf-8")
    except (UnicodeDecodeError, AssertionError, TypeError, ValueError) as exc:
        raise IntegrationError(
            f"{doing}: {content.path} is not UTF-8 text ({exc})", transient=False, system=SYSTEM
        ) from None


def _run(run) -> WorkflowRun:
    return WorkflowRun(
        id=run.id,
        status=run.status,
        conclusion=run.conclusion,
        display_title=run.display_title or "",
        html_url=run.html_url,
        run_number=run.run_number,
        created_at=run.created_at,
        updated_at=run.updated_at,
    )


def web_url(path: str = "") -> str:
    """The web page (not the API) at `path` of the configured GitHub: https://github.com/<path>
    for api.github.com, https://host/<path> for GitHub Enterprise (https://host/api/v3), the
    sandbox's own pages for the sandbox. "" when no GitHub is configured."""
    try:
        base = endpoint(SYSTEM)
    except IntegrationError:
        return ""
    if re.match(r"^https://api\.github\.com/?$", base):
        base = "https://github.com"
    base = re.sub(r"/api/v3/?$", "", base)
    return f"{base}/{path.lstrip('/')}"


def github_client() -> PyGithubClient:
    """The configured client (endpoint and token from settings)."""
    return PyGithubClient(
        base_url=endpoint(SYSTEM),
        token=getattr(settings, "GITHUB_TOKEN", "") or "",
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
    )
