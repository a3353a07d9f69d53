import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from apidocs.demo import demo_api_addresses_point
from sandbox.registry import servers
from sandbox.runner import start_sandbox
from sandbox.switchyard import sandbox_machine_credentials, slack_workspace_seed

DEMO_API_SERVERS = ("demo-grpc", "demo-http")


def demo_api_ports() -> dict[str, int]:
    """Free ports for the demo API servers, like every sandbox server, unless settings pin them."""
    pinned = {
        "demo-grpc": settings.SANDBOX_DEMO_GRPC_ADDRESS,
        "demo-http": settings.SANDBOX_DEMO_HTTP_ADDRESS,
    }
    return {name: int(address.rpartition(":")[2]) for name, address in pinned.items() if address}


def demo_api_addresses_follow(endpoints: dict[str, str]) -> str:
    """Point the demo APIs' staging addresses at the demo servers just started; a sentence."""
    grpc, http = (endpoints.get(name, "").removeprefix("http://") for name in DEMO_API_SERVERS)
    if not (grpc or http):
        return ""
    try:
        changed = demo_api_addresses_point(
            grpc_address=grpc or None, http_address=http or None, actor_label="sandbox"
        )
    except DatabaseError as exc:
        return f"sandbox: the demo APIs' staging addresses were not pointed here ({exc})"
    return f"sandbox: demo APIs' staging addresses follow the demo servers ({changed} changed)"


class Command(BaseCommand):
    help = (
        "Start the sandbox servers (local stand-ins that speak the real Kubernetes, GitHub, "
        "Argo CD, Prometheus and OpenID Connect APIs) on loopback, and write their addresses "
        "to .sandbox/endpoints.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--only", nargs="*", help="Start only these servers")
        parser.add_argument("--list", action="store_true", help="List the servers and exit")
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="Multiply the simulations' durations (0.1: ten times the demo's pace)",
        )

    def _available(self, specs) -> list[str]:
        """Every server, but the optional SSO provider only where Node can run it."""
        from sandbox.oidc import oidc_unavailable

        reason = oidc_unavailable()
        if reason:
            self.stdout.write(
                f"sandbox: the SSO provider (oidc) is skipped: {reason}. Sign in with the local "
                "demo logins; install Node.js 18+ and run `make install` to try SSO."
            )
        return [name for name in specs if not (name == "oidc" and reason)]

    def handle(self, *args, **options):
        specs = servers()
        if options["list"]:
            for spec in specs.values():
                self.stdout.write(f"{spec.name:12} {spec.description}")
            return
        names = options["only"] or self._available(specs)
        running = start_sandbox(
            directory=settings.SANDBOX_DIR, names=names, host=options["host"],
            ports=demo_api_ports(),
        )  # fmt: skip
        running.state.shared["time_scale"] = options["time_scale"]
        running.write_endpoints(settings.SANDBOX_DIR / "endpoints.json")
        # The GitHub sandbox's deploy workflow asks Switchyard for approvals, as a real one would.
        running.state.shared["switchyard_machine"] = sandbox_machine_credentials()
        pointed = demo_api_addresses_follow(running.endpoints)
        if pointed:
            self.stdout.write(pointed)
        # Slack: the teams' channels and the people, and interactions sent to this Switchyard.
        if "slack" in running.state.shared:
            slack_workspace_seed(running.state.shared["slack"])
        for name, url in sorted(running.endpoints.items()):
            self.stdout.write(f"sandbox {name:12} {url}")
        for name, reason in sorted(running.failed.items()):
            self.stderr.write(
                f"sandbox {name:12} FAILED to start, the others run without it: {reason}"
            )
        if not running.endpoints:
            self.stdout.write("sandbox: no servers are registered yet")
        self.stdout.write(
            f"sandbox: endpoints written to {settings.SANDBOX_DIR / 'endpoints.json'}"
        )
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
        running.stop()
