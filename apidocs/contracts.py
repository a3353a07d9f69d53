"""Contracts by the real buf CLI: breaking changes, lint and format over stored protobuf sets.

What buf decides is never re-implemented here: these functions build the sets buf is run over (the
module's files, the googleapis files they import, their buf.yaml), pick the default policy when
the set has no buf.yaml, and shape buf's findings for storage (adding each rule's categories, as
`buf config ls-breaking-rules` lists them).
"""

from dataclasses import asdict, dataclass

from django.conf import settings

from integrations import buf
from integrations.errors import IntegrationError
from portal.errors import PortalError, ValidationFailed

from .protos import GOOGLEAPIS_ROOT, WELL_KNOWN_TYPES_ROOT, parse_descriptor_set

CONFIG_FILES = buf.CONFIG_FILES
# Files buf ships itself (every google/protobuf/*.proto, including the editions features files).
BUF_BUNDLED_PREFIX = "google/protobuf/"


class BufUnavailable(PortalError):
    """buf could not run (missing binary, timeout, unusable buf.yaml): nothing was stored."""

    def __init__(self, error: IntegrationError, doing: str):
        self.error = error
        hint = (
            "Try again in a minute."
            if error.transient
            else "Fix the buf.yaml of the set, or ask the platform team to install buf-bin."
        )
        super().__init__(f"buf could not {doing}: {error.message}. Nothing was stored. {hint}")


@dataclass(frozen=True)
class StoredFinding:
    """A buf finding as Switchyard stores and shows it (buf's fields plus the rule's categories)."""

    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    rule: str
    categories: tuple[str, ...]
    message: str

    def as_dict(self) -> dict:
        data = asdict(self)
        data["categories"] = list(self.categories)
        return data

    def __str__(self) -> str:
        return f"{self.path or '<input>'}:{self.start_line}:{self.start_column}:{self.message}"


def config_text(files: dict[str, str]) -> str:
    """The set's own buf.yaml (at its root), or ""."""
    return next((files[name] for name in buf.CONFIG_FILES if name in files), "")


def proto_set(files: dict[str, str], descriptor_set: bytes | None) -> buf.ProtoSet:
    """What buf needs for one stored set: its .proto files, the non-bundled files they import
    (from googleapis-common-protos, as protoc compiled them), and its buf.yaml."""
    protos = {path: text for path, text in files.items() if path.endswith(".proto")}
    imports = {}
    if descriptor_set:
        for file in parse_descriptor_set(bytes(descriptor_set)).file:
            if file.name in protos or file.name.startswith(BUF_BUNDLED_PREFIX):
                continue
            for root in (GOOGLEAPIS_ROOT, WELL_KNOWN_TYPES_ROOT):
                if (root / file.name).is_file():
                    imports[file.name] = (root / file.name).read_text(encoding="utf-8")
                    break
    return buf.ProtoSet(files=protos, imports=imports, config=config_text(files))


def default_breaking_use(*, production: bool) -> list[str]:
    """The environment's policy for a set without a buf.yaml breaking section."""
    value = settings.BUF_BREAKING_USE_PRODUCTION if production else settings.BUF_BREAKING_USE
    return [part.strip() for part in value.split(",") if part.strip()]


def config_check(files: dict[str, str]) -> None:
    """ValidationFailed when the set's buf.yaml cannot be used (nothing is stored)."""
    text = config_text(files)
    if text:
        try:
            buf.config_read(text)
        except IntegrationError as error:
            raise ValidationFailed(f"{error.message}.") from None


def config_breaking_section(files: dict[str, str]) -> bool:
    """Whether the set's buf.yaml configures breaking (else the default policy applies)."""
    text = config_text(files)
    return bool(text) and "breaking" in buf.config_read(text)


def breaking_findings(
    *, current: buf.ProtoSet, against: buf.ProtoSet, production: bool, client=None
) -> list[StoredFinding]:
    """buf breaking of `current` against `against`, in buf's order; BufUnavailable on failure."""
    client = client or buf.buf_client()
    try:
        output = client.breaking(
            current=current,
            against=against,
            default_use=default_breaking_use(production=production),
        )
        return stored_findings(output.findings, client.rules("breaking"))
    except IntegrationError as error:
        raise BufUnavailable(error, "check for breaking changes") from None


def lint_findings(*, files: buf.ProtoSet, client=None) -> list[StoredFinding]:
    """buf lint (the set's buf.yaml lint section, else buf's DEFAULT category)."""
    client = client or buf.buf_client()
    try:
        return stored_findings(client.lint(files=files).findings, client.rules("lint"))
    except IntegrationError as error:
        raise BufUnavailable(error, "lint the files") from None


def format_diff(*, files: buf.ProtoSet, client=None) -> str:
    """What `buf format --diff` would change; "" when the files are formatted."""
    client = client or buf.buf_client()
    try:
        return client.format_diff(files=files)
    except IntegrationError as error:
        raise BufUnavailable(error, "format the files") from None


def stored_findings(findings: list[buf.Finding], rules: dict[str, buf.Rule]) -> list[StoredFinding]:
    return [
        StoredFinding(
            path=f.path,
            start_line=f.start_line,
            start_column=f.start_column,
            end_line=f.end_line,
            end_column=f.end_column,
            rule=f.rule,
            categories=rules[f.rule].categories if f.rule in rules else (),
            message=f.message,
        )  # fmt: skip
        for f in findings
    ]
