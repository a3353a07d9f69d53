"""Start sandbox servers on loopback ports, each in its own thread."""

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from .registry import SandboxState, servers

logger = logging.getLogger(__name__)


@dataclass
class RunningSandbox:
    state: SandboxState
    _servers: list[BaseWSGIServer] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def endpoints(self) -> dict[str, str]:
        return self.state.endpoints

    def write_endpoints(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.endpoints, indent=2, sort_keys=True))
        tmp.replace(path)

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def start_sandbox(
    *,
    directory: Path,
    names: list[str] | None = None,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
) -> RunningSandbox:
    """Start the named servers (all when None); port 0 picks a free one. Returns once listening."""
    specs = servers()
    unknown = set(names or []) - set(specs)
    if unknown:
        raise ValueError(f"unknown sandbox server(s): {', '.join(sorted(unknown))}")
    state = SandboxState(directory=directory)
    directory.mkdir(parents=True, exist_ok=True)
    running = RunningSandbox(state=state)
    chosen = [specs[name] for name in (names or sorted(specs))]
    # Bind every socket first so that each factory can know every endpoint.
    bound = []
    for spec in chosen:
        server = make_server(host, (ports or {}).get(spec.name, 0), _placeholder, threaded=True)
        state.endpoints[spec.name] = f"http://{host}:{server.server_port}"
        bound.append((spec, server))
    for spec, server in bound:
        server.app = spec.factory(state)
        thread = threading.Thread(
            target=server.serve_forever, name=f"sandbox-{spec.name}", daemon=True
        )
        thread.start()
        running._servers.append(server)
        running._threads.append(thread)
        logger.info("sandbox %s listening on %s", spec.name, state.endpoints[spec.name])
    return running


def _placeholder(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
