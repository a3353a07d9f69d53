"""`buf breaking` between two directories of .proto files, run by the real buf CLI."""

import json
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from apidocs import contracts
from apidocs.protos import ProtoCompileError, compile_protos, read_proto_dir
from integrations import buf
from integrations.errors import IntegrationError
from portal.errors import ValidationFailed


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "Compare the .proto files in --current against --against with buf breaking and print "
        "buf's findings (paths relative to the directories, as buf prints them when run from "
        "the include root). Exits 1 when there are findings, 2 on bad input."
    )

    def add_arguments(self, parser):
        parser.add_argument("--against", required=True, help="directory (include root) before")
        parser.add_argument("--current", required=True, help="directory (include root) after")
        parser.add_argument("--use", help="rule ids and categories, comma separated (buf.yaml use)")
        parser.add_argument("--except", dest="except_", help="rule ids and categories to drop")
        parser.add_argument(
            "--error-format", choices=buf.ERROR_FORMATS,
            help="buf's own output: text, json (one object a line) or github-actions",
        )  # fmt: skip
        parser.add_argument(
            "--format", choices=["json", "text"], default="text",
            help="json: a list of the findings as Switchyard stores them (with categories)",
        )  # fmt: skip

    def handle(self, *args, against, current, use, except_, error_format, format, **options):
        sets = {
            "against": self._read("against", against),
            "current": self._read("current", current),
        }
        if use or except_:
            sets["current"] = _with_rules(sets["current"], _split(use), _split(except_))
        fmt = error_format or "text"
        try:
            client = buf.buf_client()
            output = client.breaking(
                current=sets["current"], against=sets["against"],
                default_use=contracts.default_breaking_use(production=False), error_format=fmt,
            )  # fmt: skip
            rules = client.rules("breaking")
        except IntegrationError as error:
            raise CommandError(f"buf: {error.message}", returncode=2) from None
        if format == "json" and not error_format:
            stored = contracts.stored_findings(output.findings, rules)
            self.stdout.write(json.dumps([f.as_dict() for f in stored], indent=2))
        else:
            self.stdout.write(output.rendered, ending="")
        if output.findings:
            raise SystemExit(1)

    def _read(self, label: str, directory: str) -> buf.ProtoSet:
        path = Path(directory)
        if not path.is_dir():
            raise CommandError(f"--{label} {directory}: not a directory", returncode=2)
        files = read_proto_dir(path)
        try:
            descriptor_set = compile_protos(files)
            contracts.config_check(files)
        except ProtoCompileError as error:
            lines = "\n".join(f"  {e}" for e in error.errors)
            raise CommandError(f"--{label} does not compile:\n{lines}", returncode=2) from None
        except ValidationFailed as error:
            raise CommandError(f"--{label}: {error.message}", returncode=2) from None
        return contracts.proto_set(files, descriptor_set)


def _with_rules(protos: buf.ProtoSet, use: list[str], except_: list[str]) -> buf.ProtoSet:
    """--use / --except replace those keys of the breaking section of current's buf.yaml."""
    config = buf.config_read(protos.config) if protos.config.strip() else {"version": "v2"}
    breaking = dict(config.get("breaking") or {})
    if use:
        breaking["use"] = use
    if except_:
        breaking["except"] = except_
    config["breaking"] = breaking
    return buf.ProtoSet(protos.files, protos.imports, yaml.safe_dump(config, sort_keys=False))
