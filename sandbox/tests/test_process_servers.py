import sys

import pytest
import requests

from sandbox import registry
from sandbox.registry import ProcessCommand
from sandbox.runner import start_sandbox

# A tiny HTTP server that serves on the socket it is handed, as every process server must.
SERVE_ON_FD = """
import http.server, os, socket
sock = socket.socket(fileno=int(os.environ["SANDBOX_LISTEN_FD"]))
server = http.server.HTTPServer(sock.getsockname(), http.server.SimpleHTTPRequestHandler,
                                bind_and_activate=False)
server.socket = sock
server.serve_forever()
"""


def _python_server(state, url):
    (state.directory / "hello.txt").write_text(url)
    return ProcessCommand(
        argv=[sys.executable, "-c", SERVE_ON_FD], cwd=state.directory, ready_path="/hello.txt"
    )


def _crashing(state, url):
    return ProcessCommand(argv=[sys.executable, "-c", "raise SystemExit('no luck')"])


def test_process_server_gets_a_free_port_next_to_wsgi_servers(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SERVERS", {})
    monkeypatch.setattr(registry, "SERVER_MODULES", [])
    registry.register("wsgi", lambda state: lambda env, start: [], "thread server")
    registry.register_process("proc", _python_server, "subprocess server")
    running = start_sandbox(directory=tmp_path)
    try:
        url = running.endpoints["proc"]
        assert requests.get(f"{url}/hello.txt", timeout=5).text == url
        assert set(running.endpoints) == {"wsgi", "proc"}
    finally:
        running.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/hello.txt", timeout=2)


def test_process_that_exits_is_reported_with_its_output(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SERVERS", {})
    monkeypatch.setattr(registry, "SERVER_MODULES", [])
    registry.register_process("broken", _crashing, "exits at once")
    running = start_sandbox(directory=tmp_path)  # reported, not raised: the others would run
    running.stop()
    assert "no luck" in running.failed["broken"]
    assert "broken" not in running.endpoints
