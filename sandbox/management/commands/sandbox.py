import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox.registry import servers
from sandbox.runner import start_sandbox
from sandbox.switchyard import sandbox_machine_credentials, slack_workspace_seed


def demo_api_ports() -> dict[str, int]:
    """The demo API servers listen where seed_demo wrote the demo APIs' staging addresses."""
    return {
        "demo-grpc": int(settings.SANDBOX_DEMO_GRPC_ADDRESS.rpartition(":")[2]),
        "demo-http": int(settings.SANDBOX_DEMO_HTTP_ADDRESS.rpartition(":")[2]),
    }


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
