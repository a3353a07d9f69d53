#!/usr/bin/env python3
"""The release workflow's helper: the rollout block for the GitOps values, and approvals.

Standard library only, so it runs on any runner. Copy it next to deploy.yml in your repository.

    python switchyard_client.py rollout --strategy canary --steps 5,pause,25,pause:30s,100

prints the `rollout:` block of the GitOps values.yaml as JSON (deploy.yml merges it with yq), or
exits 1 naming what is wrong with the strategy or steps.

    SWITCHYARD_URL=https://switchyard.example.com \
    SWITCHYARD_TOKEN=... SWITCHYARD_SIGNING_SECRET=... \
    python switchyard_client.py approval --service ledger --environment prod \
        --phase "canary 5% verified" --actor "$GITHUB_ACTOR" --release-id 42 --weight 5

Exit status: 0 approved (or promoted fully), 2 aborted, 3 expired, 1 any other failure.
The decision is also printed as JSON on stdout; progress goes to stderr.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

EXIT = {"approved": 0, "aborted": 2, "expired": 3}
STRATEGIES = ("rolling", "canary", "bluegreen")
DEFAULT_CANARY_STEPS = "5,pause,25,pause:10s,50,pause:10s,100"


def parse_steps(text: str) -> list[dict]:
    """`"5,pause,25,pause:10s,100"` -> Argo Rollouts canary steps. Raises ValueError."""
    steps: list[dict] = []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        if token == "pause":
            steps.append({"pause": {}})
        elif token.startswith("pause:"):
            duration = token.removeprefix("pause:")
            if not duration.rstrip("smh").isdigit():
                raise ValueError(f"pause duration {duration!r} must look like 30s, 5m or 1h")
            steps.append({"pause": {"duration": duration}})
        elif token.isdigit() and 0 <= int(token) <= 100:
            steps.append({"setWeight": int(token)})
        else:
            raise ValueError(f"canary step {token!r} must be a weight 0-100, pause or pause:30s")
    return steps


def rollout_config(strategy: str, steps: str = "") -> dict:
    """The `rollout:` block of values.yaml for a strategy (canary, bluegreen or rolling)."""
    if strategy == "canary":
        return {"strategy": "canary", "steps": parse_steps(steps or DEFAULT_CANARY_STEPS)}
    if strategy == "bluegreen":
        return {"strategy": "bluegreen", "autoPromotionEnabled": False}
    if strategy == "rolling":
        return {"strategy": "canary", "steps": []}
    raise ValueError(f"strategy {strategy!r} must be canary, bluegreen or rolling")


def rollout(args) -> int:
    try:
        block = rollout_config(args.strategy, args.steps or "")
    except ValueError as exc:
        print(f"switchyard: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(block, separators=(",", ":")))
    return 0


def call(method: str, url: str, token: str, secret: str, body: dict | None = None) -> dict:
    raw = json.dumps(body).encode() if body is not None else b""
    timestamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
    if not url.startswith(("https://", "http://")):
        raise SystemExit(f"switchyard: {url} is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=raw if body is not None else None, method=method
    )
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Switchyard-Timestamp", timestamp)
    request.add_header("X-Switchyard-Delivery", uuid.uuid4().hex)
    request.add_header("X-Switchyard-Signature", "sha256=" + signature.hexdigest())
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - https URL
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"switchyard: {method} {url} answered {exc.code}: {detail}")


def approval_body(args) -> dict:
    """The approval request Switchyard's POST /api/approvals/ takes, from the command line."""
    body = {
        "service": args.service,
        "environment": args.environment,
        "rollout_phase": args.phase,
        "actor": args.actor,
        "expires_in_minutes": args.expires_in_minutes,
    }
    weight = args.weight
    if weight is None and args.steps:
        # The first canary weight is where the rollout pauses for this decision.
        weights = [s["setWeight"] for s in parse_steps(args.steps) if "setWeight" in s]
        weight = weights[0] if weights else None
    extra = {
        "release_id": args.release_id,
        "weight": weight,
        "from_version": args.from_version,
        "to_version": args.to_version,
        "workflow_run_url": args.workflow_run_url,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def approval(args) -> int:
    base = args.url.rstrip("/")
    created = call("POST", f"{base}/api/approvals/", args.token, args.secret, approval_body(args))
    print(f"switchyard: waiting for a decision: {base}{created['url']}", file=sys.stderr)
    state = created
    while state["state"] == "pending":
        time.sleep(args.poll_seconds)
        state = call("GET", f"{base}/api/approvals/{created['id']}", args.token, args.secret)
    print(json.dumps(state))
    return EXIT.get(state["state"], 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("SWITCHYARD_URL"))
    parser.add_argument("--token", default=os.environ.get("SWITCHYARD_TOKEN"))
    parser.add_argument("--secret", default=os.environ.get("SWITCHYARD_SIGNING_SECRET"))
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("approval", help="ask for an approval and wait for the decision")
    ask.add_argument("--service", required=True)
    ask.add_argument("--environment", required=True)
    ask.add_argument("--phase", required=True)
    ask.add_argument("--actor", required=True)
    ask.add_argument("--release-id", type=int)
    ask.add_argument("--weight", type=int)
    ask.add_argument("--steps", help="the canary steps: --weight defaults to their first weight")
    ask.add_argument("--from-version")
    ask.add_argument("--to-version")
    ask.add_argument("--workflow-run-url")
    ask.add_argument("--expires-in-minutes", type=int, default=60)
    ask.add_argument("--poll-seconds", type=float, default=10)
    plan = sub.add_parser("rollout", help="print the rollout block of the GitOps values as JSON")
    plan.add_argument("--strategy", required=True, choices=STRATEGIES)
    plan.add_argument("--steps", default="")
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "rollout":
        return rollout(args)
    if not (args.url and args.token and args.secret):
        parser.error("set SWITCHYARD_URL, SWITCHYARD_TOKEN and SWITCHYARD_SIGNING_SECRET")
    return approval(args)


if __name__ == "__main__":
    sys.exit(main())
