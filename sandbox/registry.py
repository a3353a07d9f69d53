"""The sandbox servers: each speaks one external system's real HTTP API on loopback.

A server module registers itself with `register(name, factory)`; `factory(state)` returns a WSGI
application, served in a thread. A server that is a program of its own (the OpenID Connect
provider runs on Node) registers with `register_process(name, command, description)` instead:
`command(state, url)` returns the `ProcessCommand` to start; it receives its already-bound
listening socket as the file descriptor named by the environment variable SANDBOX_LISTEN_FD.

`state` is a `SandboxState` shared by all servers of one sandbox, so that, for example,
the Argo CD server can see the Rollouts held by the Kubernetes server.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WsgiApp = Callable[..., Any]


@dataclass
class SandboxState:
    """What the servers of one running sandbox share."""

    directory: Path
    endpoints: dict[str, str] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerSpec:
    name: str
    factory: Callable[[SandboxState], WsgiApp]
    description: str
    tls: bool = False  # served over https with the sandbox's own authority (sandbox/tls.py)


@dataclass(frozen=True)
class ProcessCommand:
    """How to start one subprocess server. `env` is added to the parent's environment."""

    argv: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Path polled with GET until it answers 200: the server is ready.
    ready_path: str = "/"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    command: Callable[[SandboxState, str], ProcessCommand]
    description: str


@dataclass(frozen=True)
class GrpcSpec:
    """A gRPC server (not WSGI): `start(state, host, port)` binds, serves in its own threads and
    returns `(bound_port, stop)`."""

    name: str
    start: Callable[[SandboxState, str, int], tuple[int, Callable[[], Any]]]
    description: str


_SERVERS: dict[str, ServerSpec | ProcessSpec | GrpcSpec] = {}

# Modules that define servers; importing one registers its server.
SERVER_MODULES: list[str] = [
    "sandbox.kubernetes",
    "sandbox.github",
    "sandbox.argocd",
    "sandbox.prometheus",
    "sandbox.loki",
    "sandbox.pagerduty",
    "sandbox.cdevents_sink",
    "sandbox.slack",
]


def register(
    name: str, factory: Callable[[SandboxState], WsgiApp], description: str, *, tls: bool = False
) -> None:
    _SERVERS[name] = ServerSpec(name=name, factory=factory, description=description, tls=tls)


def register_process(
    name: str, command: Callable[[SandboxState, str], ProcessCommand], description: str
) -> None:
    _SERVERS[name] = ProcessSpec(name=name, command=command, description=description)


def register_grpc(name: str, start, description: str) -> None:
    _SERVERS[name] = GrpcSpec(name=name, start=start, description=description)


def servers() -> dict[str, ServerSpec | ProcessSpec | GrpcSpec]:
    import importlib

    for module in SERVER_MODULES:
        importlib.import_module(module)
    return dict(_SERVERS)


SERVER_MODULES.append("sandbox.oidc")
SERVER_MODULES.append("sandbox.demo_apis")
