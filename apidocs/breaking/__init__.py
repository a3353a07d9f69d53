"""Breaking-change detection between two descriptor sets, compatible with `buf breaking`."""

from google.protobuf import descriptor_pb2

from .checks import Finding
from .model import Index
from .rules import NOT_IMPLEMENTED, RULES, UnknownRuleError, resolve_rules

__all__ = [
    "Finding",
    "NOT_IMPLEMENTED",
    "RULES",
    "UnknownRuleError",
    "check_breaking",
    "resolve_rules",
]


def check_breaking(
    *,
    against: descriptor_pb2.FileDescriptorSet,
    current: descriptor_pb2.FileDescriptorSet,
    against_files: set[str] | None = None,
    current_files: set[str] | None = None,
    use=None,
    except_=None,
) -> list[Finding]:
    """Findings for `current` against `against`, in buf's order.

    `*_files` name the files that are part of the module (the rest are imports, not compared);
    None means every file in the set. `use`/`except_` take rule ids and categories as buf.yaml.
    """
    previous = Index(against, against_files)
    now = Index(current, current_files)
    findings = set()
    for rule in resolve_rules(use, except_):
        check = RULES[rule][1]
        if check is not None:
            findings.update(check(previous, now))
    return sorted(findings, key=Finding.sort_key)
