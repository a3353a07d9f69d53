"""The sandbox OpenID Connect provider: panva/oidc-provider (OpenID Certified) run by Node.

It serves a real discovery document, JWKS, RS256-signed ID tokens, the authorization code flow
with PKCE (required) and a `groups` claim, with a plain login form and a consent page. The demo
identities and the one client (Switchyard) are written to `<sandbox dir>/oidc/config.json`, which
the provider re-reads on every login, so a test can change someone's groups between two logins
with `sandbox_user_groups_set(...)`.

Install its Node packages with `make install` (runs `npm ci` here).
"""

import json
import os
import shutil
from pathlib import Path

from django.conf import settings

from sandbox.registry import ProcessCommand, SandboxState, register_process

HERE = Path(__file__).resolve().parent
# The client the portal expects (settings.OIDC_SANDBOX_CLIENT): the portal never imports us.
CLIENT_ID = settings.OIDC_SANDBOX_CLIENT["client_id"]
CLIENT_SECRET = settings.OIDC_SANDBOX_CLIENT["secret"]
PROVIDER_ID = settings.OIDC_SANDBOX_CLIENT["provider_id"]
PASSWORD = "switchyard-demo"  # noqa: S105 - the sandbox identities' shared password
CALLBACK_PATH = f"/accounts/oidc/{PROVIDER_ID}/login/callback/"

# username, full name, groups claim
SANDBOX_USERS = [
    ("admin", "Ada Admin", ["platform-admins"]),
    ("alice", "Alice Lead", ["payments-leads"]),
    ("bob", "Bob Builder", ["payments"]),
    ("carol", "Carol Coder", ["checkout"]),
    ("sam", "Sam Ops", ["sre"]),
    ("pat", "Pat Product", ["pm"]),
]


def config_path(directory: Path) -> Path:
    return Path(directory) / "oidc" / "config.json"


def _config(issuer: str) -> dict:
    return {
        "issuer": issuer,
        "password_hint": PASSWORD,
        "clients": [
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "client_name": "Switchyard",
                # "native" lets a loopback redirect URI match on any port (RFC 8252 §7.3): the
                # portal's port differs between `make run` and each test's live server.
                "application_type": "native",
                "redirect_uris": [
                    f"http://127.0.0.1{CALLBACK_PATH}",
                    f"http://localhost{CALLBACK_PATH}",
                ],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            }
        ],
        "users": [
            {
                "username": username,
                "name": name,
                "email": f"{username}@example.com",
                "groups": groups,
                "password": PASSWORD,
            }
            for username, name, groups in SANDBOX_USERS
        ],
    }


def _write(path: Path, config: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2))
    tmp.replace(path)


def sandbox_user_groups_set(*, directory: Path, username: str, groups: list[str]) -> None:
    """Change the groups claim of one sandbox identity (read by the provider at next login)."""
    path = config_path(directory)
    config = json.loads(path.read_text())
    for user in config["users"]:
        if user["username"] == username:
            user["groups"] = list(groups)
            break
    else:
        raise ValueError(f"no sandbox identity called {username!r}")
    _write(path, config)


def _command(state: SandboxState, url: str) -> ProcessCommand:
    node = os.environ.get("SANDBOX_NODE") or shutil.which("node") or "/usr/bin/node"
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            f"the sandbox OpenID Connect provider is not installed: run `make install` "
            f"(or `npm ci` in {HERE})"
        )
    path = config_path(state.directory)
    _write(path, _config(url))
    return ProcessCommand(
        argv=[node, str(HERE / "server.js"), str(path)],
        cwd=HERE,
        env={"NODE_ENV": "development"},
        ready_path="/.well-known/openid-configuration",
    )


register_process(
    "oidc",
    _command,
    "OpenID Connect provider (panva/oidc-provider on Node): discovery, JWKS, PKCE, groups",
)
