import json

import requests

from sandbox import registry
from sandbox.runner import start_sandbox


def _hello(state):
    def app(environ, start_response):
        body = json.dumps({"me": state.endpoints["hello"], "all": sorted(state.endpoints)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app


def test_servers_start_on_free_ports_and_know_each_other(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SERVERS", {})
    monkeypatch.setattr(registry, "SERVER_MODULES", [])
    registry.register("hello", _hello, "test server")
    registry.register("other", _hello, "test server")
    running = start_sandbox(directory=tmp_path)
    try:
        url = running.endpoints["hello"]
        answer = requests.get(url, timeout=5).json()
        assert answer == {"me": url, "all": ["hello", "other"]}
        running.write_endpoints(tmp_path / "endpoints.json")
        assert json.loads((tmp_path / "endpoints.json").read_text()) == running.endpoints
    finally:
        running.stop()
