"""GitHub for the catalog: an organisation's repositories, descriptor files, teams and members.

PyGithub, with conditional requests (If-None-Match with the ETag of the last answer) for the
descriptor files, so a sync of an unchanged organisation costs one 304 per repository and no
download (304s do not count against GitHub's rate limit). Configured like the release adapter:
`endpoint("github")` (GITHUB_URL, else the sandbox) and `settings.GITHUB_TOKEN`.
"""

import json
import math
from base64 import b64decode
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

from django.conf import settings
from github import Auth, Github, GithubException

from .endpoints import endpoint
from .errors import IntegrationError
from .github import _error

SYSTEM = "github"


@dataclass(frozen=True)
class RepositoryRef:
    full_name: str
    default_branch: str
    archived: bool


@dataclass(frozen=True)
class FileAnswer:
    """A file's text (None when the repository has no such file) and the answer's ETag."""

    text: str | None
    etag: str
    not_modified: bool = False


@dataclass(frozen=True)
class TeamInfo:
    slug: str
    name: str
    description: str
    parent: str | None
    members: list[str] = field(default_factory=list)  # logins


class GitHubCatalog(Protocol):
    def repositories(self, org: str) -> list[RepositoryRef]: ...
    def file_get(self, repo: str, path: str, *, ref: str, etag: str = "") -> FileAnswer: ...
    def file_paths(self, repo: str, *, ref: str) -> list[str]: ...
    def teams(self, org: str) -> list[TeamInfo]: ...


class PyGithubCatalog:
    def __init__(self, *, base_url: str, token: str, timeout: float):
        if not token:
            raise IntegrationError("GITHUB_TOKEN is not set", transient=False, system=SYSTEM)
        self._github = Github(
            auth=Auth.Token(token),
            base_url=base_url,
            timeout=max(1, math.ceil(timeout)),
            retry=None,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
            lazy=True,  # get_organization() makes no request of its own
        )

    def repositories(self, org: str) -> list[RepositoryRef]:
        """Every repository of `org` (all pages)."""
        try:
            # raw_data: reading an attribute the list left out would fetch each repository.
            return [
                RepositoryRef(
                    r.raw_data["full_name"],
                    r.raw_data.get("default_branch") or "main",
                    bool(r.raw_data.get("archived")),
                )
                for r in self._github.get_organization(org).get_repos()
            ]
        except Exception as exc:  # noqa: BLE001 - every failure becomes an IntegrationError
            raise _error(exc, f"listing the repositories of {org}") from exc

    def file_get(self, repo: str, path: str, *, ref: str, etag: str = "") -> FileAnswer:
        """One file through the contents API; with `etag`, a 304 says it did not change."""
        url = f"/repos/{repo}/contents/{quote(path.strip('/'))}"
        headers = {"If-None-Match": etag} if etag else None
        doing = f"reading {path} of {repo}"
        try:
            status, answer_headers, body = self._github.requester.requestJson(
                "GET", url, parameters={"ref": ref}, headers=headers
            )
        except Exception as exc:  # noqa: BLE001
            raise _error(exc, doing) from exc
        new_etag = {k.lower(): v for k, v in answer_headers.items()}.get("etag", "")
        if status == 304:
            return FileAnswer(None, new_etag or etag, not_modified=True)
        if status == 404:
            return FileAnswer(None, new_etag)
        if status >= 400:
            raise _error(GithubException(status, _json(body), answer_headers), doing)
        data = _json(body)
        if not isinstance(data, dict) or data.get("type") != "file":
            return FileAnswer(None, new_etag)  # a directory of that name: no descriptor
        try:
            text = b64decode(data.get("content") or "").decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise IntegrationError(
                f"{doing}: not UTF-8 text", transient=False, system=SYSTEM
            ) from exc
        return FileAnswer(text, new_etag)

    def file_paths(self, repo: str, *, ref: str) -> list[str]:
        """Every file path of `repo` at `ref` (the git trees API, recursive), for glob targets."""
        doing = f"listing the files of {repo}"
        try:
            tree = self._github.get_repo(repo).get_git_tree(ref, recursive=True)
            if tree.raw_data.get("truncated"):
                raise IntegrationError(
                    f"{doing}: the tree is too large for one answer; name the files instead of "
                    "a glob",
                    transient=False,
                    system=SYSTEM,
                )
            return [item.path for item in tree.tree if item.type == "blob"]
        except IntegrationError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _error(exc, doing) from exc

    def teams(self, org: str) -> list[TeamInfo]:
        """The organisation's teams with their parent team and members' logins."""
        try:
            found = []
            for team in self._github.get_organization(org).get_teams():
                parent = team.parent.slug if team.parent else None
                members = [m.login for m in team.get_members()]
                found.append(
                    TeamInfo(team.slug, team.name, team.description or "", parent, members)
                )
            return found
        except Exception as exc:  # noqa: BLE001
            raise _error(exc, f"listing the teams of {org}") from exc


def _json(body: str):
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {"message": body[:200]}


def github_catalog() -> PyGithubCatalog:
    return PyGithubCatalog(
        base_url=endpoint("github"),
        token=settings.GITHUB_TOKEN,
        timeout=settings.INTEGRATION_TIMEOUT_SECONDS,
    )
