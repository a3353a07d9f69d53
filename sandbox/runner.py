"""Start sandbox servers on loopback ports: WSGI apps each in a thread, programs as subprocesses."""

import json
import logging
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .registry import GrpcSpec, ProcessSpec, SandboxState, servers
from .tls import server_context

logger = logging.getLogger(__name__)

PROCESS_READY_TIMEOUT_SECONDS = 30


@dataclass
class RunningSandbox:
    state: SandboxState
    # Servers that could not start, with why: the others run without them.
    failed: dict[str, str] = field(default_factory=dict)
    _servers: list[BaseWSGIServer] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _processes: list[subprocess.Popen] = field(default_factory=list)
    _stoppers: list = field(default_factory=list)

    @property
    def endpoints(self) -> dict[str, str]:
        return self.state.endpoints

    def write_endpoints(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.endpoints, indent=2, sort_keys=True))
        tmp.replace(path)

    def stop(self) -> None:
        for hook in self.state.shared.get("on_stop", []):
            hook()
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for stop in self._stoppers:
            stop()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1, so clients keep their connection as they do with the real servers (werkzeug's
    default, HTTP/1.0, costs a new connection and thread per request)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # werkzeug writes the headers and the body in two sends: without TCP_NODELAY the body
        # waits for the client's delayed ACK of the headers, milliseconds per answer on a
        # kept-alive connection (as real servers do, answer at once).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def start_sandbox(
    *,
    directory: Path,
    names: list[str] | None = None,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    shared: dict | None = None,
) -> RunningSandbox:
    """Start the named servers (all when None); port 0 picks a free one. Returns once listening.
    `shared` seeds what the servers share (time_scale, demo_services) before any of them starts;
    then each server's `on_start` hooks run, in the order they were registered.

    A server that cannot start (say the OpenID Connect provider without its node_modules) is
    logged and listed in `failed` with the reason, and left out of `endpoints`; the others run.
    """
    specs = servers()
    unknown = set(names or []) - set(specs)
    if unknown:
        raise ValueError(f"unknown sandbox server(s): {', '.join(sorted(unknown))}")
    state = SandboxState(directory=directory, shared=dict(shared or {}))
    directory.mkdir(parents=True, exist_ok=True)
    running = RunningSandbox(state=state)
    chosen = [specs[name] for name in (names or sorted(specs))]
    # Bind every socket first so that each factory can know every endpoint.
    bound = []
    for spec in chosen:
        port = (ports or {}).get(spec.name, 0)
        if isinstance(spec, GrpcSpec):
            listener = None  # a gRPC server binds and starts in one step, below
        elif isinstance(spec, ProcessSpec):
            listener = socket.create_server((host, port))
            state.endpoints[spec.name] = f"http://{host}:{listener.getsockname()[1]}"
        else:
            tls = server_context(directory) if spec.tls else None
            listener = make_server(
                host, port, _placeholder, threaded=True, request_handler=KeepAliveHandler,
                ssl_context=tls,
            )  # fmt: skip
            scheme = "https" if tls else "http"
            state.endpoints[spec.name] = f"{scheme}://{host}:{listener.server_port}"
        bound.append((spec, listener))
    try:
        for spec, listener in bound:
            try:
                if isinstance(spec, GrpcSpec):
                    bound_port, stop = spec.start(state, host, (ports or {}).get(spec.name, 0))
                    running._stoppers.append(stop)
                    state.endpoints[spec.name] = f"http://{host}:{bound_port}"
                elif isinstance(spec, ProcessSpec):
                    _start_process(running, spec, listener)
                else:
                    _start_thread(running, spec, listener)
            except Exception as exc:  # noqa: BLE001 - one server down must not stop the rest
                _close(listener)
                state.endpoints.pop(spec.name, None)
                running.failed[spec.name] = str(exc) or type(exc).__name__
                logger.error("sandbox %s could not start: %s", spec.name, running.failed[spec.name])
                continue
            logger.info("sandbox %s listening on %s", spec.name, state.endpoints[spec.name])
        for hook in state.shared.get("on_start", []):
            hook()
    except BaseException:
        running.stop()
        for _spec, listener in bound:
            _close(listener)
        raise
    return running


def _close(listener) -> None:
    if listener is None:  # a gRPC server: nothing bound before it starts
        return
    if isinstance(listener, socket.socket):
        listener.close()
    else:
        listener.server_close()


def _start_thread(running: RunningSandbox, spec, server: BaseWSGIServer) -> None:
    server.app = spec.factory(running.state)
    thread = threading.Thread(target=server.serve_forever, name=f"sandbox-{spec.name}", daemon=True)
    thread.start()
    running._servers.append(server)
    running._threads.append(thread)


def _start_process(running: RunningSandbox, spec: ProcessSpec, listener: socket.socket) -> None:
    """Hand the bound socket to the program and wait until it answers on it."""
    url = running.state.endpoints[spec.name]
    command = spec.command(running.state, url)
    log_path = running.state.directory / f"{spec.name}.log"
    fd = listener.fileno()
    with listener, open(log_path, "ab") as log:
        process = subprocess.Popen(
            command.argv,
            cwd=command.cwd,
            env={**os.environ, **command.env, "SANDBOX_LISTEN_FD": str(fd)},
            pass_fds=[fd],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    # The child holds the socket now; the parent's copy is closed by the `with` above.
    running._processes.append(process)
    try:
        _wait_until_ready(process, url + command.ready_path, log_path, spec.name)
    except RuntimeError:
        running._processes.remove(process)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        raise


def _wait_until_ready(process: subprocess.Popen, url: str, log_path: Path, name: str) -> None:
    deadline = time.monotonic() + PROCESS_READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"sandbox {name} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"sandbox {name} did not answer {url} within {PROCESS_READY_TIMEOUT_SECONDS}s "
        f"(see {log_path})"
    )


def _placeholder(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]
