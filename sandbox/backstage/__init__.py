"""The real Backstage catalog backend (@backstage/plugin-catalog-backend on Node), for the
Backstage mirror source's tests and the bench: `BackstageBackend(...).start()` writes an
app-config.yaml for the run (loopback port, database, static token, catalog locations) and waits
until the catalog has processed its entities.

Install its Node packages with `make install` (runs `npm ci` here; better-sqlite3 builds from
source with npm_config_nodedir=/usr).
"""

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
CATALOG = HERE / "catalog" / "all.yaml"  # the small demo catalog (our own descriptors)
TOKEN = "switchyard-sandbox-backstage-token"  # noqa: S105 - loopback-only static token
KINDS = ["Component", "System", "API", "Resource", "Location", "Group", "User", "Domain"]


def installed() -> bool:
    return (HERE / "node_modules" / "@backstage" / "plugin-catalog-backend").is_dir()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BackstageBackend:
    def __init__(self, *, directory: Path, locations=(CATALOG,), database: dict | None = None):
        self.directory = Path(directory)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.locations = [Path(p) for p in locations]
        self.database = database or {"client": "better-sqlite3", "connection": ":memory:"}
        self.process: subprocess.Popen | None = None

    def config(self) -> dict:
        return {
            "backend": {
                "baseUrl": self.url,
                "listen": {"port": self.port, "host": "127.0.0.1"},
                "database": self.database,
                "auth": {
                    "externalAccess": [
                        {"type": "static", "options": {"token": TOKEN, "subject": "switchyard"}}
                    ]
                },
            },
            "catalog": {
                "rules": [{"allow": KINDS}],
                "processingInterval": {"seconds": 2},
                "locations": [{"type": "file", "target": str(p)} for p in self.locations],
            },
        }

    def start(self, *, expect: int, timeout: float = 120) -> "BackstageBackend":
        """Start node and wait until `expect` entities are served (or raise with the log)."""
        config = self.directory / "app-config.yaml"
        config.write_text(json.dumps(self.config()))  # JSON is YAML
        self.log = (self.directory / "backstage.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
            [shutil.which("node") or "node", str(HERE / "index.js"), "--config", str(config)],
            cwd=HERE,  # Backstage looks for the package.json upwards from here
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.count() >= expect:
                return self
            time.sleep(0.5)
        self.stop()
        log = (self.directory / "backstage.log").read_text()[-3000:]
        raise RuntimeError(f"the Backstage catalog backend did not serve {expect} entities:\n{log}")

    def count(self) -> int:
        try:
            response = requests.get(
                f"{self.url}/api/catalog/entities/by-query",
                params={"limit": 1},
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=2,
            )
            return int(response.json().get("totalItems", 0)) if response.ok else 0
        except (requests.RequestException, ValueError):
            return 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()
