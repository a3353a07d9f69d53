"""GitHub REST API (version 2022-11-28) for releases, Actions workflow runs and deployments.

Enough of the API for PyGithub and for the deploy flow: repositories of the demo owner exist on
demand with 5–8 releases; each has the shipped workflow `examples/github/deploy.yml` (loaded by
`sandbox/github_workflow.py`, no copy of its own): dispatches are checked against its inputs as
GitHub checks them, and its runs progress queued -> in_progress -> completed through its jobs and
steps over a few seconds, optionally wait at an environment approval (`pending_deployments`),
and write the new version into the GitOps repository (`sandbox/gitops.py`) in one commit naming
the release. See docs/release-sandboxes.md.
"""

import re
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import github_org as org_api
from . import github_shapes as shapes
from .demo import DEMO_OWNER, demo_protos, demo_versions
from .github_runs import Run, WorkflowRuns
from .github_runs import ids as _ids
from .github_workflow import dispatch_problem, workflow_load
from .registry import SandboxState, register
from .web import (
    FaultKnobs,
    bearer_token,
    json_response,
    request_json,
    wsgi_app,
)

SANDBOX_TOKEN = "switchyard-sandbox"
API_VERSION = "2022-11-28"
DEPLOY_WORKFLOW = "deploy.yml"


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    created_at: float
    versions: list[tuple[str, float]]
    workflow_id: int
    protected_environments: set[str] = field(default_factory=set)
    environment_ids: dict[str, int] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    deployments: list[dict] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # path -> text, the same at every ref

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def environment_id(self, name: str) -> int:
        return self.environment_ids.setdefault(name, next(_ids))


class GitHubSandbox(WorkflowRuns):
    def __init__(self, state: SandboxState):
        self.state = state
        self.repos: dict[str, Repo] = {}
        self.lock = threading.RLock()
        self.faults = FaultKnobs()
        self.settings = {"return_run_details": True}
        self.started = time.time()
        self.orgs = org_api.OrgStore()
        self.url_map = Map(
            [
                Rule("/orgs/<org>/repos", endpoint="org_repos"),
                Rule("/repos/<owner>/<repo>/git/trees/<path:ref>", endpoint="tree"),
                Rule("/orgs/<org>/teams", endpoint="org_teams"),
                Rule("/orgs/<org>/teams/<slug>/members", endpoint="org_members"),
                Rule("/sandbox/orgs/<org>/teams/<slug>", endpoint="ctl_team", methods=["PUT"]),
                Rule("/repos/<owner>/<repo>", endpoint="repo"),
                Rule("/repos/<owner>/<repo>/releases", endpoint="releases"),
                Rule("/repos/<owner>/<repo>/tags", endpoint="tags"),
                Rule("/repos/<owner>/<repo>/commits/<path:ref>", endpoint="commit"),
                Rule("/repos/<owner>/<repo>/contents", endpoint="contents", defaults={"path": ""}),
                Rule("/repos/<owner>/<repo>/contents/", endpoint="contents", defaults={"path": ""}),
                Rule("/repos/<owner>/<repo>/contents/<path:path>", endpoint="contents"),
                Rule("/repos/<owner>/<repo>/actions/workflows/<wf>", endpoint="workflow"),
                Rule(
                    "/repos/<owner>/<repo>/actions/workflows/<wf>/dispatches",
                    endpoint="dispatch",
                    methods=["POST"],
                ),
                Rule("/repos/<owner>/<repo>/actions/workflows/<wf>/runs", endpoint="wf_runs"),
                Rule("/repos/<owner>/<repo>/actions/runs", endpoint="runs"),
                Rule("/repos/<owner>/<repo>/actions/runs/<int:run_id>", endpoint="run"),
                Rule("/repos/<owner>/<repo>/actions/runs/<int:run_id>/jobs", endpoint="jobs"),
                Rule(
                    "/repos/<owner>/<repo>/actions/runs/<int:run_id>/pending_deployments",
                    endpoint="pending",
                    methods=["GET", "POST"],
                ),
                Rule(
                    "/repos/<owner>/<repo>/deployments",
                    endpoint="deployments",
                    methods=["GET", "POST"],
                ),
                Rule("/repos/<owner>/<repo>/deployments/<int:dep_id>", endpoint="deployment"),
                Rule(
                    "/repos/<owner>/<repo>/deployments/<int:dep_id>/statuses",
                    endpoint="statuses",
                    methods=["GET", "POST"],
                ),
                Rule(
                    "/repos/<owner>/<repo>/deployments/<int:dep_id>/statuses/<int:status_id>",
                    endpoint="status",
                ),
                Rule("/sandbox/repos", endpoint="ctl_repos", methods=["POST"]),
                Rule(
                    "/sandbox/repos/<owner>/<repo>/releases",
                    endpoint="ctl_release",
                    methods=["POST"],
                ),
                Rule(
                    "/sandbox/repos/<owner>/<repo>/environments/<env>",
                    endpoint="ctl_environment",
                    methods=["PUT"],
                ),
                Rule(
                    "/sandbox/repos/<owner>/<repo>/contents/<path:path>",
                    endpoint="ctl_contents",
                    methods=["PUT", "DELETE"],
                ),
                Rule("/sandbox/settings", endpoint="ctl_settings", methods=["GET", "POST"]),
                # github.com's web pages that the API's html_url fields and compare links open.
                Rule("/<owner>/<repo>/actions/runs/<int:run_id>", endpoint="web_run"),
                Rule("/<owner>/<repo>/compare/<path:spec>", endpoint="web_compare"),
            ]
        )

    # ---- plumbing -------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.state.endpoints["github"]

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request: Request) -> Response:
        headers = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000",
            "x-ratelimit-reset": str(int(time.time()) + 60),
            "x-ratelimit-resource": "core",
        }
        body = {
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            "status": "403",
        }
        return json_response(body, 403, headers)

    def failed(self, request: Request, status: int) -> Response:
        messages = {404: "Not Found", 405: "Method Not Allowed"}
        return error(status, messages.get(status, "Server Error"))

    def handle(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        if endpoint.startswith("ctl_"):
            return getattr(self, endpoint)(request, **args)
        if endpoint.startswith("web_"):
            with self.lock:
                repo = self.repo_get(args.pop("owner"), args.pop("repo"))
                if repo is None:
                    return web_page("Not Found", "<p>No such repository.</p>", 404)
                return getattr(self, endpoint)(repo, **args)
        if bearer_token(request) not in self.state.shared.get("github_tokens", {SANDBOX_TOKEN}):
            return error(401, "Bad credentials")
        version = request.headers.get("X-GitHub-Api-Version", API_VERSION)
        if version != API_VERSION:
            return error(400, f"API version '{version}' is not supported.")
        with self.lock:
            if endpoint.startswith("org_"):
                response = getattr(self, endpoint)(request, **args)
            else:
                repo = self.repo_get(args.pop("owner"), args.pop("repo"))
                if repo is None:
                    return error(404, "Not Found")
                response = getattr(self, f"do_{endpoint}")(request, repo, **args)
        response = org_api.conditional(request, response)
        response.headers["X-GitHub-Api-Version-Selected"] = API_VERSION
        response.headers["x-ratelimit-remaining"] = "4999"
        return response

    def repo_get(self, owner: str, name: str) -> Repo | None:
        key = f"{owner}/{name}".lower()
        if key not in self.repos and owner == DEMO_OWNER:
            self.repo_create(owner, name, demo_versions(name))
        return self.repos.get(key)

    def repo_create(self, owner: str, name: str, versions: list[str]) -> Repo:
        spacing = 3 * 86400
        first = self.started - spacing * (len(versions) + 1)
        repo = Repo(
            owner=owner,
            name=name,
            id=next(_ids),
            created_at=first - spacing,
            versions=[(v, first + spacing * i) for i, v in enumerate(versions)],
            workflow_id=next(_ids),
            files=demo_protos(name),
        )
        self.repos[repo.full_name.lower()] = repo
        return repo

    def run_find(self, repo: Repo, run_id: int) -> Run:
        for run in repo.runs:
            if run.id == run_id:
                return run
        raise NotFound()

    # ---- releases and tags ------------------------------------------------------------------

    def do_repo(self, request, repo):
        return json_response(shapes.repository(self.base, repo))

    def do_releases(self, request, repo):
        releases = [shapes.release(self.base, repo, v, t) for v, t in reversed(repo.versions)]
        return paginated(request, releases)

    def do_tags(self, request, repo):
        tags = [shapes.tag(self.base, repo, v) for v, _ in reversed(repo.versions)]
        return paginated(request, tags)

    def do_commit(self, request, repo, ref):
        """GET /repos/{o}/{r}/commits/{ref}: a tag's commit, committed when it was released."""
        for version, created in repo.versions:
            if ref in (version, f"v{version}") or ref == shapes.fake_sha(
                f"{repo.full_name}:v{version}"
            ):
                return json_response(shapes.commit(self.base, repo, version, created))
        return error(422, f"No commit found for SHA: {ref}")

    # ---- repository contents ----------------------------------------------------------------

    def ref_known(self, repo: Repo, ref: str) -> bool:
        tags = {f"v{v}" for v, _ in repo.versions} | {v for v, _ in repo.versions}
        return ref in {"main", "HEAD"} | tags or re.fullmatch(r"[0-9a-f]{7,40}", ref) is not None

    def do_contents(self, request, repo, path):
        """GET /repos/{o}/{r}/contents/{path}?ref=: a file (base64) or a directory (a list)."""
        ref = request.args.get("ref") or "main"
        if not self.ref_known(repo, ref):
            return error(404, f"No commit found for the ref {ref}")
        path = path.strip("/")
        if path in repo.files:
            return json_response(shapes.content_file(self.base, repo, path, ref, repo.files[path]))
        prefix = f"{path}/" if path else ""
        children: dict[str, str | None] = {}
        for name, text in repo.files.items():
            if name.startswith(prefix):
                head, _, rest = name[len(prefix) :].partition("/")
                children[prefix + head] = None if rest else text
        if not children:
            return error(404, "Not Found")
        return json_response(
            [
                shapes.content_entry(self.base, repo, child, ref, text=text)
                for child, text in sorted(children.items())
            ]
        )

    def do_tree(self, request, repo, ref):
        """GET /repos/{o}/{r}/git/trees/{ref}?recursive=1: every file (and folder) path."""
        if not self.ref_known(repo, ref):
            return error(404, "Not Found")
        return json_response(
            org_api.tree(self.base, repo, ref, recursive=bool(request.args.get("recursive")))
        )

    def ctl_contents(self, request, owner, repo, path):
        """PUT {"text": ...} writes a file of the repository (every ref); DELETE removes it."""
        with self.lock:
            found = self.repo_get(owner, repo)
            if found is None:
                return error(404, "Not Found")
            if request.method == "DELETE":
                found.files.pop(path.strip("/"), None)
                return Response(status=204)
            try:
                body = request_json(request)
            except ValueError:
                return error(400, "Problems parsing JSON")
            if not isinstance(body.get("text"), str):
                return error(422, '"text" must be a string')
            found.files[path.strip("/")] = body["text"]
        return json_response({"path": path.strip("/")}, 201)

    # ---- workflows and runs -----------------------------------------------------------------

    def workflow_check(self, repo: Repo, wf: str) -> None:
        if wf not in {DEPLOY_WORKFLOW, str(repo.workflow_id)}:
            raise NotFound()

    def do_workflow(self, request, repo, wf):
        self.workflow_check(repo, wf)
        return json_response(shapes.workflow(self.base, repo, self.started))

    def do_dispatch(self, request, repo, wf):
        self.workflow_check(repo, wf)
        try:
            body = request_json(request)
        except ValueError:
            return error(400, "Problems parsing JSON")
        workflow = workflow_load()
        problem = ref_problem(repo, body) or dispatch_problem(workflow, body.get("inputs") or {})
        if problem:
            return error(422, problem)
        run = self.run_start(repo, body, workflow)
        if body.get("return_run_details") is True and self.settings["return_run_details"]:
            return json_response(
                {
                    "workflow_run_id": run.id,
                    "run_url": shapes.run_url(self.base, repo, run.id),
                    "html_url": shapes.run_html_url(self.base, repo, run.id),
                }
            )
        return Response(status=204)

    def do_wf_runs(self, request, repo, wf):
        self.workflow_check(repo, wf)
        return self.do_runs(request, repo)

    def do_runs(self, request, repo):
        runs = sorted(repo.runs, key=lambda r: r.id, reverse=True)
        args = request.args
        if args.get("event"):
            runs = [r for r in runs if args["event"] == "workflow_dispatch"]
        if args.get("status"):
            wanted = args["status"]
            runs = [r for r in runs if wanted in {r.status, r.conclusion}]
        if args.get("head_sha"):
            runs = [r for r in runs if r.head_sha == args["head_sha"]]
        items = [shapes.workflow_run(self.base, r) for r in runs]
        return paginated(request, items, key="workflow_runs")

    def do_run(self, request, repo, run_id):
        if request.method != "GET":
            return error(405, "Method Not Allowed")
        return json_response(shapes.workflow_run(self.base, self.run_find(repo, run_id)))

    def web_run(self, repo, run_id):
        run = next((r for r in repo.runs if r.id == run_id), None)
        if run is None:
            return web_page("Not Found", "<p>No such workflow run.</p>", 404)
        rows = "".join(
            f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
            for k, v in [("status", run.status), ("conclusion", run.conclusion or "—"),
                         ("ref", run.ref), ("commit", run.head_sha), *sorted(run.inputs.items())]
        )  # fmt: skip
        steps = "".join(f"<li>{escape(str(step.get('name', step)))}</li>" for step in run.steps)
        body = f"<table>{rows}</table><h2>Steps</h2><ol>{steps or '<li>none yet</li>'}</ol>"
        return web_page(f"{run.display_title} · run #{run.run_number} · {repo.full_name}", body)

    def web_compare(self, repo, spec):
        base, _, head = spec.partition("...")
        names = [name for name, _when in repo.versions]
        if base not in names or head not in names:
            return web_page("Not Found", f"<p>{escape(spec)}: no such versions.</p>", 404)
        low, high = sorted((names.index(base), names.index(head)))
        between = "".join(f"<li>{escape(n)}</li>" for n in names[low + 1 : high + 1])
        return web_page(
            f"Comparing {base}...{head} · {repo.full_name}",
            f"<p>Releases after {escape(names[low])} up to {escape(names[high])}:</p>"
            f"<ul>{between}</ul>",
        )

    def do_jobs(self, request, repo, run_id):
        run = self.run_find(repo, run_id)
        return json_response({"total_count": 1, "jobs": [shapes.job(self.base, run)]})

    def do_pending(self, request, repo, run_id):
        run = self.run_find(repo, run_id)
        if request.method == "GET":
            if run.status != "waiting" or run.waiting_environment is None:
                return json_response([])
            return json_response([shapes.pending_deployment(self.base, run)])
        try:
            body = request_json(request)
        except ValueError:
            return error(400, "Problems parsing JSON")
        problem = review_problem(run, body)
        if problem:
            return error(422, problem)
        run.review = {"state": body["state"], "comment": body.get("comment", "")}
        deployment = self.deployment_add(repo, run, run.waiting_environment)
        run.deployment = deployment
        if body["state"] == "rejected":
            shapes.deployment_status_add(self.base, repo, deployment, "failure", "rejected")
        run.reviewed.set()
        return json_response([deployment])

    # ---- deployments ------------------------------------------------------------------------

    def deployment_add(self, repo: Repo, run: Run | None, environment: str, **extra) -> dict:
        deployment = shapes.deployment(
            self.base,
            repo,
            deployment_id=next(_ids),
            environment=environment,
            ref=extra.get("ref") or (run.inputs.get("version", run.ref) if run else "main"),
            sha=run.head_sha if run else shapes.fake_sha(repo.full_name),
            payload=extra.get("payload") or ({"run_id": run.id, **run.inputs} if run else {}),
            description=extra.get("description"),
        )
        repo.deployments.append(deployment)
        return deployment

    def deployment_find(self, repo: Repo, dep_id: int) -> dict:
        for deployment in repo.deployments:
            if deployment["id"] == dep_id:
                return deployment
        raise NotFound()

    def do_deployments(self, request, repo):
        if request.method == "POST":
            try:
                body = request_json(request)
            except ValueError:
                return error(400, "Problems parsing JSON")
            if not isinstance(body.get("ref"), str) or not body["ref"]:
                return error(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
            deployment = self.deployment_add(
                repo,
                None,
                str(body.get("environment", "production")),
                ref=body["ref"],
                payload=body.get("payload") or {},
                description=body.get("description"),
            )
            return json_response(public(deployment), 201)
        found = list(reversed(repo.deployments))
        for name in ("environment", "ref", "sha", "task"):
            if request.args.get(name):
                found = [d for d in found if d[name] == request.args[name]]
        return paginated(request, [public(d) for d in found])

    def do_deployment(self, request, repo, dep_id):
        deployment = self.deployment_find(repo, dep_id)
        if request.method == "DELETE":
            repo.deployments.remove(deployment)
            return Response(status=204)
        return json_response(public(deployment))

    def do_statuses(self, request, repo, dep_id):
        deployment = self.deployment_find(repo, dep_id)
        if request.method == "POST":
            try:
                body = request_json(request)
            except ValueError:
                return error(400, "Problems parsing JSON")
            state = body.get("state")
            if state not in shapes.DEPLOYMENT_STATES:
                return error(422, f"Invalid request.\n\nstate {state!r} is not a valid state.")
            status = shapes.deployment_status_add(
                self.base, repo, deployment, state, body.get("description", "")
            )
            return json_response(status, 201)
        return paginated(request, list(reversed(deployment["_statuses"])))

    def do_status(self, request, repo, dep_id, status_id):
        for status in self.deployment_find(repo, dep_id)["_statuses"]:
            if status["id"] == status_id:
                return json_response(status)
        raise NotFound()

    # ---- organisations (catalog discovery, teams and members) -------------------------------

    def org_repos(self, request, org):
        repos = sorted(
            (r for r in self.repos.values() if r.owner.lower() == org.lower()), key=lambda r: r.name
        )
        return paginated(request, [shapes.repository(self.base, r) for r in repos])

    def org_teams(self, request, org):
        teams = self.orgs.teams.get(org.lower(), {})
        shaped = [org_api.team_shape(self.base, org, t, teams) for t in teams.values()]
        return paginated(request, sorted(shaped, key=lambda t: t["slug"]))

    def org_members(self, request, org, slug):
        team = self.orgs.teams.get(org.lower(), {}).get(slug)
        if team is None:
            return error(404, "Not Found")
        return paginated(request, [org_api.member(self.base, login) for login in team.members])

    def ctl_team(self, request, org, slug):
        """PUT {"name", "description", "parent": slug, "members": [logins]}: a team of `org`."""
        try:
            body = request_json(request)
        except ValueError:
            return error(400, "Problems parsing JSON")
        self.orgs.team_put(org, slug, body)
        return json_response({"slug": slug}, 201)

    # ---- sandbox controls -------------------------------------------------------------------

    def ctl_repos(self, request):
        body = request_json(request)
        owner, name = body.get("owner"), body.get("name")
        if not owner or not name:
            return json_response({"error": "owner and name are required"}, 400)
        with self.lock:
            repo = self.repo_create(owner, name, list(body.get("versions") or ["1.0.0"]))
        return json_response({"full_name": repo.full_name}, 201)

    def ctl_release(self, request, owner, repo):
        version = str(request_json(request).get("version", ""))
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            return json_response({"error": "version must look like 1.2.3"}, 400)
        with self.lock:
            found = self.repo_get(owner, repo)
            if found is None:
                return json_response({"error": "no such repository"}, 404)
            found.versions.append((version, time.time()))
        return json_response({"version": version}, 201)

    def ctl_environment(self, request, owner, repo, env):
        protected = bool(request_json(request).get("required_reviewers", True))
        with self.lock:
            found = self.repo_get(owner, repo)
            if found is None:
                return json_response({"error": "no such repository"}, 404)
            (
                found.protected_environments.add
                if protected
                else found.protected_environments.discard
            )(env)
            found.environment_id(env)
        return json_response({"environment": env, "required_reviewers": protected})

    def ctl_settings(self, request):
        if request.method == "POST":
            body = request_json(request)
            if "return_run_details" in body:
                self.settings["return_run_details"] = bool(body["return_run_details"])
        return json_response(self.settings)


def error(status: int, message: str) -> Response:
    return json_response(
        {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        },
        status,
    )


def public(deployment: dict) -> dict:
    return {k: v for k, v in deployment.items() if not k.startswith("_")}


def paginated(request: Request, items: list, key: str | None = None) -> Response:
    """One page of `items` with a GitHub-style Link header (next, last, first, prev)."""
    try:
        per_page = max(1, min(100, int(request.args.get("per_page", 30))))
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        return error(422, "per_page and page must be integers")
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []

    def link(number: int, rel: str) -> str:
        query = {**request.args.to_dict(), "per_page": per_page, "page": number}
        return f'<{request.base_url}?{urlencode(query)}>; rel="{rel}"'

    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    headers = {"Link": ", ".join(links)} if links else {}
    body = {"total_count": len(items), key: chunk} if key else chunk
    return json_response(body, 200, headers)


def ref_problem(repo: Repo, body: dict) -> str:
    """GitHub's 422 message for a dispatch whose ref it cannot find, or ''."""
    ref = body.get("ref")
    if not isinstance(ref, str) or not ref:
        return 'Invalid request.\n\n"ref" wasn\'t supplied.'
    tags = {v for v, _ in repo.versions} | {f"v{v}" for v, _ in repo.versions}
    if ref.removeprefix("refs/heads/").removeprefix("refs/tags/") not in {"main"} | tags:
        return f"No ref found for: {ref}"
    return ""


def review_problem(run: Run, body: dict) -> str:
    if body.get("state") not in {"approved", "rejected"}:
        return "Invalid request.\n\nstate must be approved or rejected."
    if not isinstance(body.get("environment_ids"), list):
        return "Invalid request.\n\nenvironment_ids must be a list."
    if run.status != "waiting" or run.waiting_environment is None:
        return "There are no pending deployments for this run."
    if run.repo.environment_id(run.waiting_environment) not in body["environment_ids"]:
        return "None of the environment_ids are waiting for review in this run."
    return ""


def create_app(state: SandboxState):
    sandbox = GitHubSandbox(state)
    state.shared["github"] = sandbox
    return sandbox.wsgi()


register("github", create_app, "GitHub REST: releases, Actions workflow runs, deployments")


def web_page(title: str, body: str, status: int = 200) -> Response:
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><p>GitHub sandbox</p><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")
