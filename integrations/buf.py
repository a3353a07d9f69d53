"""The buf CLI (PyPI `buf-bin`, pinned): breaking-change detection, lint and format.

Callers pass sources, never models: a `ProtoSet` is the uploaded files (import path -> text), the
files they import that buf does not ship (for instance google/api/*.proto, read by the caller from
googleapis-common-protos) and the buf.yaml of the set, if any. Each call writes the sets to a
temporary workspace laid out as buf expects (`src/` the module, `vendor/` the extra imports) and
runs buf in `src/` with `--error-format json`, so that paths are import paths exactly as buf
prints them when run from the include root. Failures become IntegrationError; nothing is cached.

Configured by `BUF_BINARY` (default: the `buf` installed beside this Python, else on PATH) and
`BUF_TIMEOUT_SECONDS`.
"""

import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings

from .errors import IntegrationError

SYSTEM = "buf"
FINDINGS_EXIT = 100  # buf's exit status when it printed findings
ERROR_FORMATS = ("text", "json", "github-actions")
CONFIG_FILES = ("buf.yaml", "buf.yml")
CONFIG_SECTIONS = ("lint", "breaking")


@dataclass(frozen=True)
class Finding:
    """One line of buf's JSON output (a breaking change or a lint problem)."""

    path: str
    start_line: int
    start_column: int
    end_line: int
    end_column: int
    rule: str
    message: str

    @classmethod
    def from_buf(cls, item: dict) -> "Finding":
        return cls(
            path=item.get("path", ""),
            start_line=int(item.get("start_line", 0)),
            start_column=int(item.get("start_column", 0)),
            end_line=int(item.get("end_line", 0)),
            end_column=int(item.get("end_column", 0)),
            rule=item.get("type", ""),
            message=item.get("message", ""),
        )

    def __str__(self) -> str:
        """buf's text format; a finding without a file is on `<input>`, as buf prints it."""
        return f"{self.path or '<input>'}:{self.start_line}:{self.start_column}:{self.message}"


@dataclass(frozen=True)
class Rule:
    id: str
    categories: tuple[str, ...]
    default: bool
    purpose: str


@dataclass(frozen=True)
class ProtoSet:
    """What buf is run over: the module's files, extra imports, and its buf.yaml text."""

    files: dict[str, str]
    imports: dict[str, str] = field(default_factory=dict)
    config: str = ""


@dataclass(frozen=True)
class BufOutput:
    """buf's findings, and its own rendering of them in the requested error format."""

    findings: list[Finding]
    rendered: str


class BufConfigError(IntegrationError):
    """The buf.yaml of a set cannot be used (not YAML, an unknown version, ...)."""

    def __init__(self, message: str):
        super().__init__(message, transient=False, system=SYSTEM)


def buf_binary() -> str:
    configured = getattr(settings, "BUF_BINARY", "")
    if configured:
        return configured
    beside = Path(sysconfig.get_path("scripts")) / "buf"
    return str(beside) if beside.exists() else (shutil.which("buf") or "buf")


class BufCli:
    """The real buf CLI, run as a subprocess with a timeout in a throwaway workspace."""

    def __init__(self, *, binary: str, timeout: float):
        self._binary = binary
        self._timeout = timeout

    def breaking(
        self, *, current: ProtoSet, against: ProtoSet, default_use: list[str] | None = None,
        error_format: str = "json",
    ) -> BufOutput:  # fmt: skip
        """`buf breaking` of `current` against `against`, with current's buf.yaml (breaking
        section) or else `use: default_use`. Findings in buf's order."""
        with tempfile.TemporaryDirectory(prefix="buf-") as tmp:
            root = Path(tmp)
            now = _workspace(root / "current", current, {"breaking": {"use": default_use}})
            before = _workspace(root / "against", against, {})
            args = ["breaking", ".", "--against", os.path.relpath(before, now)]
            return self._findings(args, now, error_format)

    def lint(self, *, files: ProtoSet, error_format: str = "json") -> BufOutput:
        """`buf lint` with the set's buf.yaml (lint section), else buf's DEFAULT rules."""
        with tempfile.TemporaryDirectory(prefix="buf-") as tmp:
            module = _workspace(Path(tmp), files, {})
            return self._findings(["lint", "."], module, error_format)

    def format_diff(self, *, files: ProtoSet) -> str:
        """`buf format --diff`: a unified diff of what buf would change ("" when formatted)."""
        with tempfile.TemporaryDirectory(prefix="buf-") as tmp:
            module = _workspace(Path(tmp), files, {})
            result = self._run(["format", ".", "--diff"], module)
            if result.returncode != 0:
                raise _failure(result)
            return result.stdout

    def rules(self, kind: str = "breaking") -> dict[str, Rule]:
        """buf's rules (`buf config ls-breaking-rules` / `ls-lint-rules`, v2), by id."""
        return _rules(self._binary, self._timeout, kind)

    def version(self) -> str:
        result = self._run(["--version"], None)
        if result.returncode != 0:
            raise _failure(result)
        return result.stdout.strip()

    def _findings(self, args: list[str], cwd: Path, error_format: str) -> BufOutput:
        if error_format not in ERROR_FORMATS:
            raise IntegrationError(f"unknown error format {error_format!r}", transient=False)
        result = self._run([*args, "--error-format", "json"], cwd)
        if result.returncode not in (0, FINDINGS_EXIT):
            raise _failure(result)
        findings = [
            Finding.from_buf(json.loads(line)) for line in result.stdout.splitlines() if line
        ]
        # buf prints what its compiler refuses as COMPILE "findings": those are not results.
        refused = [f for f in findings if f.rule == "COMPILE"]
        if refused:
            raise IntegrationError(
                "buf cannot compile the files: " + "; ".join(str(f) for f in refused[:5]),
                transient=False,
                system=SYSTEM,
            )
        rendered = result.stdout
        if error_format != "json" and findings:
            rendered = self._run([*args, "--error-format", error_format], cwd).stdout
        return BufOutput(findings=findings, rendered=rendered)

    def _run(self, args: list[str], cwd: Path | None) -> subprocess.CompletedProcess:
        return _run(self._binary, args, cwd, self._timeout)


def _run(binary: str, args: list[str], cwd: Path | None, timeout: float):
    # A private cache: buf never reads or writes the user's ~/.cache, and never goes online.
    cache_dir = Path(tempfile.gettempdir()) / "switchyard-buf-cache"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cache_dir),
        "BUF_CACHE_DIR": str(cache_dir),
    }
    try:
        return subprocess.run(
            [binary, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise IntegrationError(
            f"buf did not finish within {timeout:g} s", transient=True, system=SYSTEM
        ) from None
    except OSError as error:
        raise IntegrationError(
            f"the buf CLI cannot be run ({binary}: {error.strerror}); install buf-bin "
            "(pip install -r requirements.txt) or set BUF_BINARY",
            transient=False,
            system=SYSTEM,
        ) from None


def _failure(result: subprocess.CompletedProcess) -> IntegrationError:
    text = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
    return IntegrationError(text.removeprefix("Failure: "), transient=False, system=SYSTEM)


@cache
def _rules(binary: str, timeout: float, kind: str) -> dict[str, Rule]:
    args = [
        "config",
        f"ls-{kind}-rules",
        "--version",
        "v2",
        "--format",
        "json",
        "--include-deprecated",
    ]
    result = _run(binary, args, None, timeout)
    if result.returncode != 0:
        raise _failure(result)
    rules = {}
    for line in result.stdout.splitlines():
        item = json.loads(line)
        rules[item["id"]] = Rule(
            item["id"], tuple(item["categories"]), item["default"], item["purpose"]
        )
    return rules


def config_read(text: str) -> dict:
    """The `version`, `lint` and `breaking` of a buf.yaml (v1, or v2 with one module at ".").

    Only what decides the checks is kept: `deps` and `name` would send buf to the registry.
    """
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise BufConfigError(f"buf.yaml is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise BufConfigError("buf.yaml must be a mapping")
    version = data.get("version", "v1")
    if version not in ("v1", "v1beta1", "v2"):
        raise BufConfigError(f"buf.yaml version {version!r} is not v1 or v2")
    sections = {key: data[key] for key in CONFIG_SECTIONS if data.get(key)}
    if version == "v2":
        modules = data.get("modules") or [{"path": "."}]
        paths = [str(m.get("path", ".")).strip("/") or "." for m in modules]
        if paths != ["."]:
            raise BufConfigError(
                "a buf.yaml v2 here must describe one module at the root of the set "
                f"(found modules {', '.join(paths)}); upload each module as its own API"
            )
        sections.update({key: modules[0][key] for key in CONFIG_SECTIONS if modules[0].get(key)})
    for key, section in sections.items():
        _section_check(key, section)
    return {"version": version, **sections}


def _section_check(key: str, section) -> None:
    """The shapes buf.yaml documents (buf checks the rest: rule ids, paths, ...)."""
    if not isinstance(section, dict):
        raise BufConfigError(f"buf.yaml {key} must be a mapping")
    for name in ("use", "except", "ignore"):
        value = section.get(name)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise BufConfigError(f"buf.yaml {key}.{name} must be a list of strings")
    only = section.get("ignore_only")
    if only is not None and not (
        isinstance(only, dict) and all(isinstance(v, list) for v in only.values())
    ):
        raise BufConfigError(f"buf.yaml {key}.ignore_only must map rule ids to lists of paths")


def _workspace(root: Path, protos: ProtoSet, defaults: dict) -> Path:
    """Write `protos` under `root` as a buf workspace; return the module directory (`src`)."""
    module = root / "src"
    for base, files in ((module, protos.files), (root / "vendor", protos.imports)):
        for path, text in files.items():
            target = base / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    module.mkdir(parents=True, exist_ok=True)
    config = config_read(protos.config) if protos.config.strip() else {"version": "v2"}
    for key, section in defaults.items():
        if key not in config and any(section.values()):
            config[key] = {k: v for k, v in section.items() if v}
    directories = ["src", "vendor"] if protos.imports else ["src"]
    if config["version"] == "v2":
        modules = [{"path": "src", **_prefixed(config)}] + [{"path": d} for d in directories[1:]]
        _write_yaml(root / "buf.yaml", {"version": "v2", "modules": modules})
    else:
        # v1 stays v1 (its rule ids and lint defaults differ from v2): a buf.work.yaml workspace.
        _write_yaml(root / "buf.work.yaml", {"version": "v1", "directories": directories})
        _write_yaml(module / "buf.yaml", config)
        if protos.imports:
            _write_yaml(root / "vendor" / "buf.yaml", {"version": "v1"})
    return module


def _prefixed(config: dict) -> dict:
    """v2 ignore paths are relative to the workspace root, where the module now is `src/`."""
    out = {}
    for key in CONFIG_SECTIONS:
        if key not in config:
            continue
        section = dict(config[key])
        if section.get("ignore"):
            section["ignore"] = [f"src/{p}" for p in section["ignore"]]
        if section.get("ignore_only"):
            section["ignore_only"] = {
                rule: [f"src/{p}" for p in paths] for rule, paths in section["ignore_only"].items()
            }
        out[key] = section
    return out


def _write_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def buf_client() -> BufCli:
    return BufCli(binary=buf_binary(), timeout=float(getattr(settings, "BUF_TIMEOUT_SECONDS", 30)))
