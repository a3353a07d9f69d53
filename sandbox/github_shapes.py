"""JSON shapes of the GitHub sandbox's answers, field for field as the REST description has them."""

import hashlib
import itertools
import time
from base64 import b64encode

from .web import rfc3339

DEPLOYMENT_STATES = ("error", "failure", "inactive", "pending", "success", "queued", "in_progress")
_status_ids = itertools.count(50_000)


def fake_sha(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def node_id(kind: str, number: int) -> str:
    return b64encode(f"{kind}{number}".encode()).decode()


def run_url(base: str, repo, run_id: int) -> str:
    return f"{base}/repos/{repo.full_name}/actions/runs/{run_id}"


def run_html_url(base: str, repo, run_id: int) -> str:
    return f"{base}/{repo.full_name}/actions/runs/{run_id}"


def user(base: str, login: str = "switchyard-deploy[bot]", user_id: int = 1) -> dict:
    url = f"{base}/users/{login}"
    return {
        "login": login,
        "id": user_id,
        "node_id": node_id("U_", user_id),
        "avatar_url": f"{base}/avatars/{user_id}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{base}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": "Bot",
        "site_admin": False,
    }


def repository(base: str, repo) -> dict:
    url = f"{base}/repos/{repo.full_name}"
    templated = {
        "archive_url": "{archive_format}{/ref}",
        "assignees_url": "assignees{/user}",
        "blobs_url": "git/blobs{/sha}",
        "branches_url": "branches{/branch}",
        "collaborators_url": "collaborators{/collaborator}",
        "comments_url": "comments{/number}",
        "commits_url": "commits{/sha}",
        "compare_url": "compare/{base}...{head}",
        "contents_url": "contents/{+path}",
        "git_commits_url": "git/commits{/sha}",
        "git_refs_url": "git/refs{/sha}",
        "git_tags_url": "git/tags{/sha}",
        "issue_comment_url": "issues/comments{/number}",
        "issue_events_url": "issues/events{/number}",
        "issues_url": "issues{/number}",
        "keys_url": "keys{/key_id}",
        "labels_url": "labels{/name}",
        "milestones_url": "milestones{/number}",
        "notifications_url": "notifications{?since,all,participating}",
        "pulls_url": "pulls{/number}",
        "releases_url": "releases{/id}",
        "statuses_url": "statuses/{sha}",
        "trees_url": "git/trees{/sha}",
    }
    plain = [
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "hooks",
        "languages",
        "merges",
        "stargazers",
        "subscribers",
        "subscription",
        "tags",
        "teams",
    ]
    data = {
        "id": repo.id,
        "node_id": node_id("R_", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": {**user(base, repo.owner, 2), "type": "Organization"},
        "private": True,
        "html_url": f"{base}/{repo.full_name}",
        "description": f"Source of {repo.name}.",
        "fork": False,
        "url": url,
        "default_branch": "main",
        "created_at": rfc3339(repo.created_at),
        "updated_at": rfc3339(time.time()),
        "pushed_at": rfc3339(repo.versions[-1][1] if repo.versions else repo.created_at),
    }
    data.update({key: f"{url}/{suffix}" for key, suffix in templated.items()})
    data.update({f"{name}_url": f"{url}/{name}" for name in plain})
    return data


def release(base: str, repo, version: str, created: float) -> dict:
    number = int(fake_sha(f"{repo.full_name}:{version}")[:8], 16)
    tag_name = f"v{version}"
    return {
        "url": f"{base}/repos/{repo.full_name}/releases/{number}",
        "html_url": f"{base}/{repo.full_name}/releases/tag/{tag_name}",
        "assets_url": f"{base}/repos/{repo.full_name}/releases/{number}/assets",
        "upload_url": f"{base}/repos/{repo.full_name}/releases/{number}/assets{{?name,label}}",
        "tarball_url": f"{base}/repos/{repo.full_name}/tarball/{tag_name}",
        "zipball_url": f"{base}/repos/{repo.full_name}/zipball/{tag_name}",
        "id": number,
        "node_id": node_id("RE_", number),
        "tag_name": tag_name,
        "target_commitish": "main",
        "name": f"{repo.name} {version}",
        "body": f"Changes in {version}.",
        "draft": False,
        "prerelease": False,
        "immutable": False,
        "created_at": rfc3339(created),
        "published_at": rfc3339(created),
        "author": user(base),
        "assets": [],
    }


def tag(base: str, repo, version: str) -> dict:
    sha = fake_sha(f"{repo.full_name}:v{version}")
    return {
        "name": f"v{version}",
        "commit": {"sha": sha, "url": f"{base}/repos/{repo.full_name}/commits/{sha}"},
        "zipball_url": f"{base}/repos/{repo.full_name}/zipball/v{version}",
        "tarball_url": f"{base}/repos/{repo.full_name}/tarball/v{version}",
        "node_id": node_id("REF_", int(sha[:8], 16)),
    }


def workflow(base: str, repo, started: float) -> dict:
    return {
        "id": repo.workflow_id,
        "node_id": node_id("W_", repo.workflow_id),
        "name": "Deploy",
        "path": ".github/workflows/deploy.yml",
        "state": "active",
        "created_at": rfc3339(repo.created_at),
        "updated_at": rfc3339(started),
        "url": f"{base}/repos/{repo.full_name}/actions/workflows/{repo.workflow_id}",
        "html_url": f"{base}/{repo.full_name}/blob/main/.github/workflows/deploy.yml",
        "badge_url": f"{base}/{repo.full_name}/workflows/Deploy/badge.svg",
    }


def workflow_run(base: str, run) -> dict:
    repo = run.repo
    url = run_url(base, repo, run.id)
    repository_data = repository(base, repo)
    return {
        "id": run.id,
        "name": "Deploy",
        "node_id": node_id("WFR_", run.id),
        "check_suite_id": run.id + 1,
        "check_suite_node_id": node_id("CS_", run.id + 1),
        "head_branch": "main" if run.ref in {"main", "refs/heads/main"} else run.ref,
        "head_sha": run.head_sha,
        "path": ".github/workflows/deploy.yml",
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": "workflow_dispatch",
        "display_title": run.display_title,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": repo.workflow_id,
        "url": url,
        "html_url": run_html_url(base, repo, run.id),
        "pull_requests": [],
        "created_at": rfc3339(run.created_at),
        "updated_at": rfc3339(run.updated_at),
        "run_started_at": rfc3339(run.started_at or run.created_at),
        "actor": user(base),
        "triggering_actor": user(base),
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{base}/repos/{repo.full_name}/check-suites/{run.id + 1}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "workflow_url": f"{base}/repos/{repo.full_name}/actions/workflows/{repo.workflow_id}",
        "head_commit": {
            "id": run.head_sha,
            "tree_id": fake_sha(f"tree:{run.head_sha}"),
            "message": f"Release {run.ref}",
            "timestamp": rfc3339(run.created_at),
            "author": {"name": "Switchyard", "email": "switchyard@example.com"},
            "committer": {"name": "Switchyard", "email": "switchyard@example.com"},
        },
        "repository": repository_data,
        "head_repository": repository_data,
    }


def job(base: str, run) -> dict:
    repo = run.repo
    steps = []
    for number, step in enumerate(run.steps, start=1):
        steps.append(
            {
                "name": step["name"],
                "status": step["status"],
                "conclusion": step["conclusion"],
                "number": number,
                "started_at": rfc3339(step["started_at"]) if "started_at" in step else None,
                "completed_at": rfc3339(step["completed_at"]) if "completed_at" in step else None,
            }
        )
    return {
        "id": run.id * 10,
        "run_id": run.id,
        "run_url": run_url(base, repo, run.id),
        "node_id": node_id("J_", run.id * 10),
        "head_sha": run.head_sha,
        "url": f"{base}/repos/{repo.full_name}/actions/jobs/{run.id * 10}",
        "html_url": f"{run_html_url(base, repo, run.id)}/job/{run.id * 10}",
        "status": run.status if run.status != "waiting" else "waiting",
        "conclusion": run.conclusion,
        "created_at": rfc3339(run.created_at),
        "started_at": rfc3339(run.started_at or run.created_at),
        "completed_at": rfc3339(run.updated_at) if run.status == "completed" else None,
        "name": "deploy",
        "steps": steps,
        "labels": ["ubuntu-latest"],
        "workflow_name": "Deploy",
        "head_branch": "main",
    }


def pending_deployment(base: str, run) -> dict:
    repo, name = run.repo, run.waiting_environment
    env_id = repo.environment_id(name)
    return {
        "environment": {
            "id": env_id,
            "node_id": node_id("EN_", env_id),
            "name": name,
            "url": f"{base}/repos/{repo.full_name}/environments/{name}",
            "html_url": f"{base}/{repo.full_name}/deployments?environment={name}",
        },
        "wait_timer": 0,
        "wait_timer_started_at": None,
        "current_user_can_approve": True,
        "reviewers": [],
    }


def deployment(
    base: str, repo, *, deployment_id, environment, ref, sha, payload, description
) -> dict:
    now = rfc3339(time.time())
    url = f"{base}/repos/{repo.full_name}/deployments/{deployment_id}"
    return {
        "url": url,
        "id": deployment_id,
        "node_id": node_id("DE_", deployment_id),
        "sha": sha,
        "ref": ref,
        "task": "deploy",
        "payload": payload,
        "original_environment": environment,
        "environment": environment,
        "description": description,
        "creator": user(base),
        "created_at": now,
        "updated_at": now,
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{base}/repos/{repo.full_name}",
        "transient_environment": False,
        "production_environment": environment in {"prod", "production"},
        "_statuses": [],
    }


def deployment_status_add(base: str, repo, deployment: dict, state: str, description=""):
    status_id = next(_status_ids)
    now = rfc3339(time.time())
    status = {
        "url": f"{deployment['url']}/statuses/{status_id}",
        "id": status_id,
        "node_id": node_id("DES_", status_id),
        "state": state,
        "creator": user(base),
        "description": description,
        "environment": deployment["environment"],
        "target_url": "",
        "log_url": "",
        "environment_url": "",
        "created_at": now,
        "updated_at": now,
        "deployment_url": deployment["url"],
        "repository_url": f"{base}/repos/{repo.full_name}",
    }
    deployment["_statuses"].append(status)
    deployment["updated_at"] = now
    return status


def content_entry(base: str, repo, path: str, ref: str, *, text: str | None) -> dict:
    """A file (`text` given) or directory (`text` None) as the contents API lists it."""
    from urllib.parse import quote

    is_file = text is not None
    size = len(text.encode()) if is_file else 0
    sha = fake_sha(f"{repo.full_name}:{ref}:{path}:{text or ''}")
    url = f"{base}/repos/{repo.full_name}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{base}/repos/{repo.full_name}/git/{'blobs' if is_file else 'trees'}/{sha}"
    html_url = f"{base}/{repo.full_name}/{'blob' if is_file else 'tree'}/{quote(ref)}/{quote(path)}"
    return {
        "type": "file" if is_file else "dir",
        "size": size,
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "url": url,
        "git_url": git_url,
        "html_url": html_url,
        "download_url": f"{base}/raw/{repo.full_name}/{quote(ref)}/{quote(path)}"
        if is_file
        else None,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }


def content_file(base: str, repo, path: str, ref: str, text: str) -> dict:
    """One file with its content, base64 in lines of 60 characters as GitHub sends it."""
    encoded = b64encode(text.encode()).decode()
    lines = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    return {
        **content_entry(base, repo, path, ref, text=text),
        "encoding": "base64",
        "content": lines + "\n",
    }


COMMIT_BEFORE_RELEASE = 6 * 3600  # a version's commit lands a few hours before it is released


def commit(base: str, repo, version: str, released: float) -> dict:
    """GET /repos/{o}/{r}/commits/{ref}: the commit a version's tag points at."""
    sha = fake_sha(f"{repo.full_name}:v{version}")
    when = rfc3339(released - COMMIT_BEFORE_RELEASE)
    person = {"name": "Switchyard", "email": "switchyard@example.com", "date": when}
    return {
        "sha": sha,
        "node_id": node_id("C_", int(sha[:8], 16)),
        "url": f"{base}/repos/{repo.full_name}/commits/{sha}",
        "html_url": f"{base}/{repo.full_name}/commit/{sha}",
        "commit": {
            "author": person,
            "committer": person,
            "message": f"Release {version}",
            "url": f"{base}/repos/{repo.full_name}/git/commits/{sha}",
            "tree": {"sha": fake_sha(f"{sha}:tree"), "url": ""},
            "comment_count": 0,
        },
        "author": user(base),
        "committer": user(base),
        "parents": [],
        "files": [],
        "stats": {"additions": 0, "deletions": 0, "total": 0},
    }
