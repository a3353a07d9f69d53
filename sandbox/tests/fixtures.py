"""A running Kubernetes sandbox for tests, without the catalog: clusters are built explicitly."""

from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sandbox.kube_seed import service_add
from sandbox.runner import start_sandbox


@dataclass
class KubeSandbox:
    url: str
    kubeconfig: Path
    clusters: object  # sandbox.kubernetes.ClusterSet

    def cluster_url(self, name: str) -> str:
        return f"{self.url}/clusters/{name}"


@pytest.fixture
def kube_sandbox(tmp_path, settings):
    """Sandbox with clusters `staging` and `production`, namespace `shop`: services `checkout`
    (HPA 2-6 at 70% CPU, Rollout `checkout-canary`) and `cart` (no HPA), converged."""
    settings.SANDBOX_KUBERNETES_SEED = False
    running = start_sandbox(directory=tmp_path / "sandbox", names=["kubernetes"])
    clusters = running.state.shared["kubernetes"]
    clusters.ready_delay = 0.4
    for environment in ("staging", "production"):
        cluster = clusters.add(environment, namespace="shop")
        cluster.step_delay = 0.2
        service_add(
            cluster, "shop", "checkout", version="2.3.1", hpa=(2, 6, 70), rollout="checkout-canary"
        )
        service_add(cluster, "shop", "cart", version="1.4.0", replicas=3)
        cluster.settle()
    try:
        yield KubeSandbox(running.endpoints["kubernetes"], clusters.kubeconfig, clusters)
    finally:
        running.stop()


@dataclass
class LogWorld:
    """Kubernetes, Prometheus and Loki sandboxes of one world."""

    running: object  # sandbox.runner.RunningSandbox
    clusters: object  # sandbox.kubernetes.ClusterSet

    @property
    def endpoints(self) -> dict[str, str]:
        return self.running.endpoints

    def mark_bad(self, service: str, version: str, *, minutes_ago: float = 0) -> None:
        """Prometheus's fault knob; `minutes_ago` backdates it (the knob itself says "now")."""
        import time

        import requests

        url = f"{self.endpoints['prometheus']}/sandbox/bad-version"
        requests.post(url, json={"service": service, "version": version}, timeout=5)
        if minutes_ago:
            prometheus = self.running.state.shared["prometheus"]
            with prometheus.lock:
                prometheus.bad[(service, version)] = time.time() - minutes_ago * 60

    def arm_fault(self, system: str, **fault) -> None:
        import requests

        url = f"{self.endpoints[system]}/sandbox/faults"
        requests.post(url, json=fault, timeout=5).raise_for_status()


@pytest.fixture
def log_world(tmp_path, settings):
    """Clusters `staging` and `prod` (namespace `default`) running `ledger` 1.4.0 (3 pods) and,
    in prod, the canary `ledger` 1.5.0 (1 pod) beside it; pods started 20 minutes ago."""
    import time

    settings.SANDBOX_KUBERNETES_SEED = False
    running = start_sandbox(
        directory=tmp_path / "sandbox", names=["kubernetes", "prometheus", "loki"]
    )
    clusters = running.state.shared["kubernetes"]
    clusters.ready_delay = 0
    for environment in ("staging", "prod"):
        cluster = clusters.add(environment, namespace="default")
        service_add(cluster, "default", "ledger", version="1.4.0", replicas=3)
        if environment == "prod":
            service_add(cluster, "default", "ledger-canary", component="ledger", version="1.5.0",
                        replicas=1)  # fmt: skip
        cluster.settle()
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1200))
        with cluster.lock:
            for pod in cluster.store.list("pods"):
                pod["status"]["startTime"] = started
                cluster.store.update(
                    "pods", "default", pod["metadata"]["name"], pod,
                    subresource="status", check_version=False,
                )  # fmt: skip
    settings.INTEGRATION_URLS = dict(running.endpoints)
    try:
        yield LogWorld(running, clusters)
    finally:
        running.stop()


@dataclass
class PagerDutyWorld:
    running: object
    url: str

    def rest(self, sender: str = ""):
        """The official client, unmodified, pointed at the sandbox."""
        import ssl

        import pagerduty

        from sandbox.pagerduty import TOKEN
        from sandbox.tls import ca_path

        trust = ssl.create_default_context(cafile=ca_path(self.running.state.directory))
        return pagerduty.RestApiV2Client(
            TOKEN, base_url=self.url, default_from=sender or None, verify=trust
        )

    def oncall(self, policy: str, user: str, start, end, level: int = 1) -> None:
        import requests

        body = {"escalation_policy_id": policy, "user_id": user, "escalation_level": level,
                "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
        url = f"{self.url}/sandbox/oncalls"
        requests.post(url, json=body, timeout=5, verify=self.ca).raise_for_status()

    def arm_fault(self, **fault) -> None:
        import requests

        url = f"{self.url}/sandbox/faults"
        requests.post(url, json=fault, timeout=5, verify=self.ca).raise_for_status()

    @property
    def ca(self) -> str:
        from sandbox.tls import ca_path

        return str(ca_path(self.running.state.directory))


@pytest.fixture
def pagerduty_world(tmp_path, settings):
    from sandbox.tls import ca_path

    running = start_sandbox(directory=tmp_path / "pd", names=["pagerduty"])
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, **running.endpoints}
    settings.PAGERDUTY_TOKEN = "switchyard-sandbox"
    settings.PAGERDUTY_EVENTS_URL = ""
    settings.PAGERDUTY_CA_BUNDLE = str(ca_path(tmp_path / "pd"))
    try:
        yield PagerDutyWorld(running, running.endpoints["pagerduty"])
    finally:
        running.stop()


@dataclass
class CDEventsWorld:
    running: object
    url: str

    def events(self) -> list[dict]:
        return requests.get(f"{self.url}/sandbox/events", timeout=5).json()["events"]

    def duplicates(self) -> int:
        return requests.get(f"{self.url}/sandbox/events", timeout=5).json()["duplicates"]

    def down(self, status: int = 503) -> None:
        fault = {"kind": "error", "status": status, "path": "/events"}
        requests.post(f"{self.url}/sandbox/faults", json=fault, timeout=5).raise_for_status()

    def up(self) -> None:
        requests.delete(f"{self.url}/sandbox/faults", timeout=5).raise_for_status()


@pytest.fixture
def cdevents_world(tmp_path, settings):
    """The sandbox CDEvents sink; a sink row with a blank URL sends to it."""
    running = start_sandbox(directory=tmp_path / "cde", names=["cdevents"])
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, **running.endpoints}
    try:
        yield CDEventsWorld(running, running.endpoints["cdevents"])
    finally:
        running.stop()


@dataclass
class SlackWorld:
    running: object
    url: str

    def control(self, method: str, where: str, /, **body):
        import requests

        answer = requests.request(method, f"{self.url}/sandbox/{where}", json=body or None,
                                  timeout=60)  # fmt: skip
        answer.raise_for_status()
        return answer.json()

    def channel(self, name: str) -> dict:
        return self.control("POST", "channels", name=name)["channel"]

    def user(self, email: str, name: str = "") -> dict:
        return self.control("POST", "users", email=email, name=name)["user"]

    def messages(self, channel: str = "") -> list[dict]:
        import requests

        answer = requests.get(f"{self.url}/sandbox/messages", params={"channel": channel},
                              timeout=5)  # fmt: skip
        return answer.json()["messages"]

    def responses(self) -> list[dict]:
        return self.control("GET", "messages")["responses"]

    def interact(self, **body) -> dict:
        """A person clicks a button: the signed payload goes to the configured URL."""
        return self.control("POST", "interact", **body)

    def arm_fault(self, **fault) -> None:
        self.control("POST", "faults", **fault)


@pytest.fixture
def slack_world(tmp_path, settings):
    """The Slack sandbox, with the adapter pointed at it (token and signing secret its own)."""
    from sandbox.slack import SIGNING_SECRET, TOKEN

    running = start_sandbox(directory=tmp_path / "slack", names=["slack"])
    settings.INTEGRATION_URLS = {**settings.INTEGRATION_URLS, **running.endpoints}
    settings.SLACK_BOT_TOKEN = TOKEN
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    try:
        yield SlackWorld(running, running.endpoints["slack"])
    finally:
        running.stop()
