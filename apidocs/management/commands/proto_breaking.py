"""`buf breaking`-compatible check between two directories of .proto files."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apidocs.breaking import UnknownRuleError, check_breaking
from apidocs.protos import ProtoCompileError, compile_protos, parse_descriptor_set, read_proto_dir


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "Compare the .proto files in --current against --against and report breaking changes "
        "with buf's rule ids. Exits 1 when there are findings, 2 on bad input."
    )

    def add_arguments(self, parser):
        parser.add_argument("--against", required=True, help="directory (include root) before")
        parser.add_argument("--current", required=True, help="directory (include root) after")
        parser.add_argument("--use", help="rule ids and categories, comma separated (buf.yaml use)")
        parser.add_argument("--except", dest="except_", help="rule ids and categories to drop")
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, against, current, use, except_, format, **options):
        sets = {}
        for label, directory in (("against", against), ("current", current)):
            path = Path(directory)
            if not path.is_dir():
                raise CommandError(f"--{label} {directory}: not a directory", returncode=2)
            files = read_proto_dir(path)
            try:
                sets[label] = (parse_descriptor_set(compile_protos(files)), set(files))
            except ProtoCompileError as error:
                lines = "\n".join(f"  {e}" for e in error.errors)
                raise CommandError(f"--{label} does not compile:\n{lines}", returncode=2) from None
        try:
            findings = check_breaking(
                against=sets["against"][0],
                current=sets["current"][0],
                against_files=sets["against"][1],
                current_files=sets["current"][1],
                use=_split(use),
                except_=_split(except_),
            )
        except UnknownRuleError as error:
            raise CommandError(str(error), returncode=2) from None
        if format == "json":
            self.stdout.write(json.dumps([f.as_dict() for f in findings], indent=2))
        else:
            for item in findings:
                self.stdout.write(str(item))
        if findings:
            raise SystemExit(1)
