"""`make bench --peer backstage`: the real Backstage catalog backend, measured on the same catalog.

It is the very install the Backstage-mirror tests use: `sandbox/backstage/` (an npm package with
a committed package-lock.json, installed by `make backstage`) holding
`@backstage/plugin-catalog-backend` on `@backstage/backend-defaults` (which bring `pg`). Product
code does not import `sandbox`, so only the folder is named here. It runs as its own Node
process on loopback, on the bench's PostgreSQL server (a database of its own, dropped before each
ingest), reading the very `all.yaml` the Switchyard import reads. Every figure is measured here,
over its REST API with one keep-alive HTTP session; nothing is copied from elsewhere.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

PEER_DIR = Path(__file__).resolve().parent.parent / "sandbox" / "backstage"
DB_PREFIX = "sw_bench_peer_"  # Backstage adds the plugin id: sw_bench_peer_catalog
APP_CONFIG = """
backend:
  baseUrl: http://127.0.0.1:{port}
  listen: {{port: {port}, host: 127.0.0.1}}
  database:
    client: pg
    prefix: {prefix}
    connection: {connection}
  auth:
    externalAccess:
      - type: static
        options: {{token: {token}, subject: switchyard-bench}}
catalog:
  rules: [{{allow: [Component, System, API, Resource, Location, Group, User, Domain]}}]
  # New entities are processed at once; a long refresh interval keeps re-processing of the
  # whole catalog from competing with the measured requests (kind to the peer, never to us).
  processingInterval: {{minutes: 30}}
  locations:
    - type: file
      target: {catalog}
"""


class PeerError(RuntimeError):
    pass


def peer_install() -> None:
    """Check that `make backstage` installed the catalog backend (and `pg`) in sandbox/backstage."""
    modules = PEER_DIR / "node_modules"
    missing = [
        name
        for name in ("@backstage/plugin-catalog-backend", "@backstage/backend-defaults", "pg")
        if not (modules / name / "package.json").is_file()
    ]
    if missing:
        raise PeerError(
            f"{PEER_DIR} lacks {', '.join(missing)}: "
            "run `make backstage` (npm ci from its lock file)"
        )
    if not shutil.which("node"):
        raise PeerError("node is not installed: the Backstage peer needs Node.js 20")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres", query=""))


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        line = next(raw for raw in status.splitlines() if raw.startswith("VmRSS:"))
        total += int(line.split()[1])
    return total / 1024


@dataclass
class BackstagePeer:
    """One Backstage catalog backend process over `catalog` (an all.yaml Location file)."""

    catalog: Path
    database_url: str
    workdir: Path
    expected_total: int
    components: int

    def __post_init__(self):
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.base = f"http://127.0.0.1:{self.port}/api/catalog"

    @property
    def database(self) -> str:
        return f"{DB_PREFIX}catalog"

    def _reset_database(self) -> None:
        with psycopg.connect(_admin_url(self.database_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def start(self) -> None:
        """Drop the peer's database and start the backend; returns once it listens."""
        self._reset_database()
        parts = urlsplit(self.database_url)
        connection = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
            **({"password": parts.password} if parts.password else {}),
        }
        config = self.workdir / "app-config.yaml"
        config.write_text(
            APP_CONFIG.format(
                port=self.port,
                prefix=DB_PREFIX,
                connection=json.dumps(connection),
                token=self.token,
                catalog=json.dumps(str(self.catalog)),
            )
        )
        log = open(self.workdir / "backstage.log", "wb")  # noqa: SIM115 - kept for the process
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", "index.js", "--config", str(config)],
            cwd=PEER_DIR,
            env={**os.environ, "NODE_ENV": "production", "LOG_LEVEL": "warn"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PeerError(f"Backstage exited; see {self.workdir / 'backstage.log'}")
            try:
                if self.session.get(f"{self.base}/entities/by-query?limit=1", timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise PeerError("Backstage did not answer within 120 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)

    def get(self, path: str, **params) -> dict:
        response = self.session.get(f"{self.base}{path}", params=params, timeout=60)
        if not response.ok:
            raise PeerError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
        return response.json()

    def _total(self, *filters: str) -> int:
        return self.get("/entities/by-query", filter=",".join(filters), limit=1)["totalItems"]

    def ingested(self) -> bool:
        """Every entity visible, and every component with its owner relation stitched."""
        return (
            self._total("metadata.name") >= self.expected_total
            and self._total("kind=component", "relations.ownedBy") >= self.components
        )

    def ingest(self, timeout: float = 1800) -> float:
        """Seconds from process start until `ingested()` (polled every second)."""
        started = time.perf_counter()
        self.start()
        while time.perf_counter() - started < timeout:
            if self.ingested():
                return time.perf_counter() - started
            time.sleep(1)
        raise PeerError(f"Backstage had not ingested the catalog after {timeout:.0f} s")

    # --- the figures, each one call (or one walk) per sample ------------------------------

    def list_page(self, _index: int) -> None:
        self.get(
            "/entities/by-query",
            filter="kind=component",
            limit=50,
            orderField="metadata.name,asc",
        )

    def facets(self, _index: int) -> None:
        self.get(
            "/entity-facets",
            filter="kind=component",
            facet=["spec.type", "spec.lifecycle", "spec.owner"],
        )

    def list_and_facets(self, index: int) -> None:
        self.list_page(index)
        self.facets(index)

    def owner_filter(self, owners: list[str]) -> Callable[[int], None]:
        def call(index: int) -> None:
            owner = owners[index % len(owners)]
            self.get("/entities/by-query", filter=f"kind=component,spec.owner={owner}", limit=50)

        return call

    def full_text(self, terms: list[str]) -> Callable[[int], None]:
        def call(index: int) -> None:
            self.get(
                "/entities/by-query",
                filter="kind=component",
                fullTextFilterTerm=terms[index % len(terms)],
                fullTextFilterFields="metadata.name,metadata.title,metadata.description,metadata.tags",
                limit=50,
            )

        return call

    def dependents(self, name: str) -> tuple[int, int]:
        """All transitive dependents of a component: (how many, requests it took).

        The catalog API has no transitive query: each hop asks for the frontier's relations.
        """
        seen = {f"component:default/{name}"}
        frontier, requests_made = list(seen), 0
        while frontier:
            found = []
            for start in range(0, len(frontier), 500):
                response = self.session.post(
                    f"{self.base}/entities/by-refs",
                    json={"entityRefs": frontier[start : start + 500], "fields": ["relations"]},
                    timeout=60,
                )
                requests_made += 1
                response.raise_for_status()
                for entity in response.json()["items"]:
                    for relation in (entity or {}).get("relations", []):
                        ref = relation["targetRef"]
                        if relation["type"] == "dependencyOf" and ref not in seen:
                            seen.add(ref)
                            found.append(ref)
            frontier = found
        return len(seen) - 1, requests_made

    def memory_mb(self) -> float:
        return rss_mb(self.process.pid) if self.process else 0.0
