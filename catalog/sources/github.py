"""GitHub sources: descriptor discovery across an organisation's repositories, and the
organisation's teams and members as Groups and Users (as Backstage's github-org provider does)."""

import fnmatch
import json
import posixpath
import re

import yaml

from integrations.github_catalog import github_catalog

from ..backstage import Source
from .base import Fetched, Progress, SourceKind, register

# https://github.com/<owner>/<repo>/blob|tree/<ref>/<path>: a Location target into GitHub.
_GITHUB_URL = re.compile(r"^https://github\.com/([\w.-]+/[\w.-]+)/(?:blob|tree)/([^/]+)/(.+)$")
MAX_LOCATION_DEPTH = 5


@register
class GitHubDiscovery(SourceKind):
    name = "github-discovery"
    label = "GitHub discovery (a descriptor in every repository of an organisation)"
    required_config = ("org",)
    optional_config = ("path", "pattern")

    def fetch(self, progress: Progress) -> Fetched:
        """The descriptor of every matching repository, and the files its Locations name.

        Each file is asked for with the ETag of its last answer: unchanged files cost a 304 and
        their text comes from the source's cache; when nothing changed at all, the import is
        skipped.
        """
        client, org = github_catalog(), self.config["org"]
        path = self.config.get("path") or "catalog-info.yaml"
        pattern = self.config.get("pattern") or "*"
        repos = [
            r
            for r in client.repositories(org)
            if not r.archived and fnmatch.fnmatch(r.full_name.split("/", 1)[1], pattern)
        ]
        run = _Run(client, (self.source.cache or {}).get("files", {}))
        progress(0, len(repos))
        for done, repo in enumerate(repos, start=1):
            run.read(repo.full_name, repo.default_branch, path, depth=0)
            progress(done, len(repos))
        unchanged = not run.changed and set(run.files) == set(run.previous)
        return Fetched(sources=run.sources, unchanged=unchanged, cache={"files": run.files})


class _Run:
    def __init__(self, client, previous: dict):
        self.client, self.previous = client, previous
        self.files: dict[str, dict] = {}
        self.sources: list[Source] = []
        self.changed = False
        self.trees: dict[tuple[str, str], list[str]] = {}

    def read(self, repo: str, ref: str, path: str, *, depth: int) -> None:
        key = f"{repo}@{ref}:{path}"
        if key in self.files or depth > MAX_LOCATION_DEPTH:
            return
        before = self.previous.get(key) or {}
        answer = self.client.file_get(repo, path, ref=ref, etag=before.get("etag", ""))
        text = before.get("text") if answer.not_modified else answer.text
        self.changed |= text != before.get("text")  # a 404 again is no change either
        if text is None:
            return
        self.files[key] = {"etag": answer.etag, "text": text}
        name = f"https://github.com/{repo}/blob/{ref}/{path}"
        self.sources.append(Source(name=name, text=text, follow_locations=False))
        for target in _location_targets(text):
            found = _GITHUB_URL.match(target)
            if found:
                self.read(found[1], found[2], found[3], depth=depth + 1)
            elif "://" not in target:
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
                for found_path in self.expand(repo, ref, joined):
                    self.read(repo, ref, found_path, depth=depth + 1)

    def expand(self, repo: str, ref: str, pattern: str) -> list[str]:
        """A relative target as paths: itself, or the files a glob matches (trees API)."""
        if not any(c in pattern for c in "*?["):
            return [pattern]
        if (repo, ref) not in self.trees:
            self.trees[(repo, ref)] = self.client.file_paths(repo, ref=ref)
        return [p for p in self.trees[(repo, ref)] if _glob_match(p, pattern)]


def _glob_match(path: str, pattern: str) -> bool:
    """Backstage's globs: `**` spans folders (also none), `*` stays within one."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.fullmatch(regex, path) is not None


def _location_targets(text: str) -> list[str]:
    """The targets of the Location entities in one descriptor file (globs are not followed)."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []  # the import reports the file
    targets = []
    for doc in documents:
        if isinstance(doc, dict) and str(doc.get("kind", "")).lower() == "location":
            spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
            listed = [spec.get("target"), *(spec.get("targets") or [])]
            targets += [t for t in listed if isinstance(t, str) and t.strip()]
    return targets


@register
class GitHubOrg(SourceKind):
    name = "github-org"
    label = "GitHub organisation teams and members (as Groups and Users)"
    required_config = ("org",)

    def fetch(self, progress: Progress) -> Fetched:
        """Teams become Groups (slug, display name, parent team), members become Users with
        memberOf. Portal sign-in (SSO groups -> team memberships) is not touched."""
        teams = github_catalog().teams(self.config["org"])
        progress(len(teams), len(teams))
        member_of: dict[str, list[str]] = {}
        documents = []
        for team in teams:
            spec = {"type": "team", "children": [], "profile": {"displayName": team.name}}
            if team.parent:
                spec["parent"] = team.parent
            metadata = {
                "name": team.slug,
                **({"description": team.description} if team.description else {}),
            }
            documents.append({"kind": "Group", "metadata": metadata, "spec": spec})
            for login in team.members:
                member_of.setdefault(login, []).append(team.slug)
        for login, slugs in sorted(member_of.items()):
            documents.append(
                {"kind": "User", "metadata": {"name": login}, "spec": {"memberOf": sorted(slugs)}}
            )
        base = f"github-org:{self.config['org']}"
        sources = [
            Source(
                name=f"{base} {d['kind'].lower()}:{d['metadata']['name']}",
                text=json.dumps({"apiVersion": "backstage.io/v1alpha1", **d}),
                follow_locations=False,
            )
            for d in documents
        ]
        return Fetched(sources=sources)
