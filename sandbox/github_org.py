"""The GitHub sandbox's organisation endpoints, for catalog discovery and the github-org source:
an organisation's repositories, its teams and their members, and conditional requests (ETag /
If-None-Match -> 304) on every GET, as GitHub answers them. Shapes follow the REST API's
`minimal-repository`, `team` and `simple-user` schemas (checked in sandbox/tests).
"""

import hashlib
import threading
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from . import github_shapes as shapes


@dataclass
class Team:
    slug: str
    name: str
    id: int
    description: str = ""
    parent: str | None = None
    members: list[str] = field(default_factory=list)


class OrgStore:
    def __init__(self):
        self.teams: dict[str, dict[str, Team]] = {}  # org -> slug -> team
        self.lock = threading.RLock()

    def team_put(self, org: str, slug: str, body: dict) -> Team:
        with self.lock:
            teams = self.teams.setdefault(org.lower(), {})
            number = teams[slug].id if slug in teams else 7000 + sum(map(len, self.teams.values()))
            team = Team(
                slug=slug,
                name=str(body.get("name") or slug),
                id=number,
                description=str(body.get("description") or ""),
                parent=body.get("parent"),
                members=[str(m) for m in body.get("members") or []],
            )
            teams[slug] = team
            return team


def user_id(login: str) -> int:
    return 100 + int(hashlib.sha1(login.encode()).hexdigest()[:6], 16)  # noqa: S324 - an id


def member(base: str, login: str) -> dict:
    return {**shapes.user(base, login, user_id(login)), "type": "User"}


def _team_simple(base: str, org: str, team: Team) -> dict:
    url = f"{base}/orgs/{org}/teams/{team.slug}"
    return {
        "id": team.id,
        "node_id": shapes.node_id("T_", team.id),
        "url": url,
        "members_url": f"{url}/members{{/member}}",
        "name": team.name,
        "description": team.description or None,
        "permission": "pull",
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "html_url": f"{base}/orgs/{org}/teams/{team.slug}",
        "repositories_url": f"{url}/repos",
        "slug": team.slug,
        "type": "organization",
    }


def team_shape(base: str, org: str, team: Team, teams: dict[str, Team]) -> dict:
    parent = teams.get(team.parent) if team.parent else None
    return {
        **_team_simple(base, org, team),
        "parent": _team_simple(base, org, parent) if parent else None,
    }


def conditional(request: Request, response: Response) -> Response:
    """Give a GET answer its ETag; answer 304 (no body) when the client already has it."""
    if request.method != "GET" or response.status_code != 200:
        return response
    etag = '"' + hashlib.sha1(response.get_data()).hexdigest() + '"'  # noqa: S324 - an ETag
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        not_modified = Response(status=304)
        not_modified.headers["ETag"] = etag
        return not_modified
    response.headers["ETag"] = etag
    return response


def tree(base: str, repo, ref: str, *, recursive: bool) -> dict:
    """A git tree as GitHub answers it: blobs for files, trees for the folders above them."""
    folders = {p.rsplit("/", 1)[0] for path in repo.files for p in _parents(path)}
    entries = [(path, "blob") for path in repo.files] + [(f, "tree") for f in folders]
    if not recursive:
        entries = [(p, kind) for p, kind in entries if "/" not in p]
    sha = shapes.fake_sha(f"{repo.full_name}:{ref}:tree")
    url = f"{base}/repos/{repo.full_name}/git/trees"
    items = []
    for path, kind in sorted(entries):
        item_sha = shapes.fake_sha(f"{repo.full_name}:{ref}:{path}")
        item = {"path": path, "mode": "100644" if kind == "blob" else "040000", "type": kind}
        item |= {"sha": item_sha, "url": f"{url}/{item_sha}"}
        if kind == "blob":
            item["size"] = len(repo.files[path].encode())
        items.append(item)
    return {"sha": sha, "url": f"{url}/{sha}", "tree": items, "truncated": False}


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) + "/x" for i in range(len(parts) - 1)]
