"""The GitOps source of truth: a real local git repository shared by the GitHub and Argo CD servers.

Layout: `apps/<service>/<environment>/values.yaml`, for example

    service: payments-ledger-0
    environment: staging
    image: {repository: registry.example.com/payments-ledger-0, tag: 1.4.2}
    release: {id: "42"}
    rollout: {strategy: canary, steps: [{setWeight: 5}, {pause: {}}, ...]}

The GitHub server's deploy workflow writes it (one commit per release, naming the release id);
the Argo CD server reads it at HEAD. Both get the same instance through `gitops_repo(state)`.
"""

import os
import subprocess
import threading
from pathlib import Path

import yaml

from .registry import SandboxState

GIT_ENV = {
    "GIT_AUTHOR_NAME": "switchyard-deploy[bot]",
    "GIT_AUTHOR_EMAIL": "deploy-bot@switchyard.example",
    "GIT_COMMITTER_NAME": "switchyard-deploy[bot]",
    "GIT_COMMITTER_EMAIL": "deploy-bot@switchyard.example",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class GitOpsError(Exception):
    pass


class GitOpsRepo:
    """A git repository with a work tree; writes are serialised, reads are cached per HEAD."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        self._cache: tuple[str, dict[tuple[str, str], dict]] | None = None
        self._head = ""  # known HEAD: every commit goes through this object
        self.initial_head = ""  # HEAD when this process opened the repository

    def _git(self, *args: str, stdin: bytes | None = None) -> bytes:
        env = {**os.environ, **GIT_ENV, "HOME": str(self.path)}
        result = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise GitOpsError(f"git {' '.join(args)}: {result.stderr.decode().strip()}")
        return result.stdout

    def ensure(self, seed: dict[tuple[str, str], dict]) -> None:
        """Create the repository with `seed` as its first commit, unless it exists already."""
        with self._lock:
            if (self.path / ".git").is_dir():
                self.initial_head = self.head()
                return
            self.path.mkdir(parents=True, exist_ok=True)
            self._git("init", "--quiet", "--initial-branch=main")
            for (service, environment), values in seed.items():
                self._file(service, environment).parent.mkdir(parents=True, exist_ok=True)
                self._file(service, environment).write_text(yaml.safe_dump(values, sort_keys=False))
            (self.path / "README.md").write_text(
                "GitOps source of truth written by the deploy workflow; read by Argo CD.\n"
            )
            self._git("add", "-A")
            self._git("commit", "--quiet", "-m", "Initial state of the demo applications")
            self._head = ""
            self.initial_head = self.head()

    def _file(self, service: str, environment: str) -> Path:
        return self.path / "apps" / service / environment / "values.yaml"

    def write(self, service: str, environment: str, values: dict, message: str) -> str:
        """Commit `values` for one application; returns the new HEAD sha."""
        with self._lock:
            path = self._file(service, environment)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(values, sort_keys=False))
            self._git("add", str(path.relative_to(self.path)))
            self._git("commit", "--quiet", "--allow-empty", "-m", message)
            self._head = ""
            return self.head()

    def head(self) -> str:
        """HEAD, asked of git once and then after each write (Argo CD reads it per request)."""
        with self._lock:
            if not self._head:
                self._head = self._git("rev-parse", "HEAD").decode().strip()
            return self._head

    def commit_message(self, revision: str) -> str:
        return self._git("log", "-1", "--format=%B", revision).decode().strip()

    def applications(self, revision: str = "") -> tuple[str, dict[tuple[str, str], dict]]:
        """(sha, {(service, environment): values}) read from a commit (default: HEAD)."""
        with self._lock:
            head = revision or self.head()
            if self._cache and self._cache[0] == head:
                return self._cache
            listing = self._git("ls-tree", "-r", head, "apps").decode().splitlines()
            entries = []
            for line in listing:
                meta, _, name = line.partition("\t")
                parts = name.split("/")
                if len(parts) == 4 and parts[3] == "values.yaml":
                    entries.append(((parts[1], parts[2]), meta.split()[2]))
            blobs = self._cat_blobs([sha for _, sha in entries])
            apps = {}
            for key, sha in entries:
                try:
                    values = yaml.safe_load(blobs[sha]) or {}
                except yaml.YAMLError:
                    values = {"invalid": True}
                apps[key] = values if isinstance(values, dict) else {"invalid": True}
            if not revision:
                self._cache = (head, apps)
            return head, apps

    def _cat_blobs(self, shas: list[str]) -> dict[str, str]:
        if not shas:
            return {}
        out = self._git("cat-file", "--batch", stdin="\n".join(shas).encode() + b"\n")
        blobs, position = {}, 0
        while position < len(out):
            header_end = out.index(b"\n", position)
            sha, _, size = out[position:header_end].decode().split()
            start = header_end + 1
            blobs[sha] = out[start : start + int(size)].decode()
            position = start + int(size) + 1
        return blobs


def gitops_repo(state: SandboxState) -> GitOpsRepo:
    """The sandbox's GitOps repository (created with the demo applications on first use)."""
    from .demo import gitops_seed

    with state.shared.setdefault("gitops_lock", threading.Lock()):
        repo = state.shared.get("gitops")
        if repo is None:
            repo = GitOpsRepo(state.directory / "gitops")
            repo.ensure(gitops_seed(state))
            state.shared["gitops"] = repo
        return repo
