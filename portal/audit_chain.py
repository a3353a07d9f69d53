"""The audit chain's arithmetic, with nothing but the standard library.

The portal (`portal.audit`) and the offline verifier share this module, so that an exported log can
be checked on a machine that has neither Django nor the database:

    python portal/audit_chain.py switchyard-audit.jsonl --key-file audit.key

Each event is a flat dict of JSON values (`EVENT_FIELDS`). Its hash is
HMAC-SHA256(key, canonical JSON of the fields, including the previous event's hash), so nobody
without the key can rewrite an event and re-chain the rest. A checkpoint signs (count, head id,
head hash): held outside the database, it shows when the newest events were removed.

Canonical JSON: keys sorted, no spaces, ASCII only, and every number written in one form
(integral numbers as integers: PostgreSQL stores `-0.0` as `0` and `1e16` as
`10000000000000000`, and the hash must not depend on which of those forms it reads back).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
EVENT_FIELDS = (
    "created_at", "actor_id", "actor_label", "action", "outcome", "target_type", "target_id",
    "target_label", "component_id", "environment", "before", "after", "reason", "request_id",
    "ip_address", "previous_hash",
)  # fmt: skip


def _normal_number(value: float) -> int | float | str:
    if not math.isfinite(value):
        return str(value)
    exact = Decimal(repr(value))
    return int(exact) if exact == exact.to_integral_value() else value


def normalise(value: Any) -> Any:
    """JSON values in the one form both SQLite and PostgreSQL give back."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return _normal_number(value)
    if isinstance(value, dict):
        return {str(key): normalise(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalise(item) for item in value]
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        normalise(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode()


def entry_hash(key: bytes, fields: dict) -> str:
    content = {name: fields.get(name) for name in EVENT_FIELDS}
    return hmac.new(key, canonical_json(content), hashlib.sha256).hexdigest()


def checkpoint_signature(key: bytes, *, count: int, head_id: int, head_hash: str, at: str) -> str:
    content = {"count": count, "head_id": head_id, "head_hash": head_hash, "at": at}
    return hmac.new(key, b"checkpoint:" + canonical_json(content), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    event_id: int | None
    message: str


def chain_problems(key: bytes, events: Iterable[dict], *, linked: bool = True) -> tuple:
    """Every broken event in `events` (oldest first), the count walked and the last hash.

    `linked` is False for a filtered export: then each event is checked on its own.
    """
    problems: list[ChainProblem] = []
    expected_previous, count, last_hash = GENESIS_HASH, 0, GENESIS_HASH
    for event in events:
        count += 1
        event_id = event.get("id")
        if linked and event.get("previous_hash") != expected_previous:
            problems.append(
                ChainProblem(
                    event_id,
                    f"event {event_id} points at previous hash "
                    f"{str(event.get('previous_hash'))[:12]}…, but the event before it hashes to "
                    f"{expected_previous[:12]}… (an event was removed or inserted before it)",
                )
            )
        if not hmac.compare_digest(entry_hash(key, event), str(event.get("entry_hash", ""))):
            problems.append(
                ChainProblem(
                    event_id,
                    f"event {event_id} ({event.get('action')}) was changed after it was written",
                )
            )
        expected_previous = last_hash = str(event.get("entry_hash", ""))
    return problems, count, last_hash


def checkpoint_problems(key: bytes, checkpoint: dict, *, positions: dict) -> list:
    """A signed checkpoint must be genuine and still covered by the chain.

    `positions` maps each event id of a complete log to (its 1-based position, its hash).
    """
    signature = checkpoint_signature(
        key,
        count=checkpoint["count"],
        head_id=checkpoint["head_id"],
        head_hash=checkpoint["head_hash"],
        at=checkpoint["at"],
    )
    if not hmac.compare_digest(signature, str(checkpoint.get("signature", ""))):
        return [ChainProblem(None, f"checkpoint of {checkpoint['at']} has a wrong signature")]
    position, head_hash = positions.get(checkpoint["head_id"], (None, None))
    if position != checkpoint["count"]:
        found = "no such event" if position is None else f"{position} events"
        return [
            ChainProblem(
                None,
                f"checkpoint of {checkpoint['at']} counted {checkpoint['count']} events up to "
                f"event {checkpoint['head_id']}, but the log has {found} (events were removed)",
            )
        ]
    if head_hash != checkpoint["head_hash"]:
        return [
            ChainProblem(
                checkpoint["head_id"],
                f"event {checkpoint['head_id']} no longer has the hash its checkpoint signed",
            )
        ]
    return []


def read_export(lines: Iterable[str]) -> tuple[dict, list, list]:
    """(header, events, checkpoints) of a JSON Lines export."""
    header, events, checkpoints = {}, [], []
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        if "checkpoint" in row:
            checkpoints.append(row["checkpoint"])
        elif "export" in row:
            header = row["export"]
        else:
            events.append(row)
    return header, events, checkpoints


def verify_export(key: bytes, lines: Iterable[str], *, earlier: Iterable[dict] = ()) -> list:
    """Check an export: its events, the checkpoint(s) it carries, and checkpoints kept from
    earlier exports (`earlier`), which show whether events were removed since."""
    header, events, checkpoints = read_export(lines)
    complete = not header.get("filters")
    problems, _, _ = chain_problems(key, events, linked=complete)
    if not checkpoints:
        problems.append(ChainProblem(None, "the export carries no checkpoint"))
    if complete:
        positions = {
            event.get("id"): (index, event.get("entry_hash"))
            for index, event in enumerate(events, start=1)
        }
        for checkpoint in [*checkpoints, *earlier]:
            problems += checkpoint_problems(key, checkpoint, positions=positions)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Switchyard audit export offline.")
    parser.add_argument("export", type=Path, help="the .jsonl file from /access/audit/export.jsonl")
    parser.add_argument("--key-file", type=Path, required=True, help="file holding AUDIT_HMAC_KEY")
    parser.add_argument(
        "--earlier", type=Path, action="append", default=[],
        help="an earlier export whose checkpoints this one must still cover (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    key = args.key_file.read_text().strip().encode()
    earlier = []
    for path in args.earlier:
        with path.open(encoding="utf-8") as lines:
            earlier += read_export(lines)[2]
    with args.export.open(encoding="utf-8") as lines:
        problems = verify_export(key, lines, earlier=earlier)
    for problem in problems:
        print(f"BROKEN: {problem.message}")
    if not problems:
        print("audit export intact")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
