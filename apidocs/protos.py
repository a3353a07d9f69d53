"""Compile a set of .proto files into a FileDescriptorSet with grpcio-tools (protoc in-process).

Include roots, in order: the uploaded set itself, the google/api, google/rpc and google/type protos
shipped by `googleapis-common-protos`, and the well-known types bundled with grpc_tools.
"""

import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import google.api
import grpc_tools
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

WELL_KNOWN_TYPES_ROOT = Path(grpc_tools.__file__).parent / "_proto"
GOOGLEAPIS_ROOT = Path(next(iter(google.api.__path__))).parent.parent
MAX_FILES = 500
MAX_TOTAL_BYTES = 10 * 1024 * 1024

# protoc writes diagnostics to file descriptor 2; redirecting it is process-wide, so one at a time.
_PROTOC_LOCK = threading.Lock()
_DIAGNOSTIC = re.compile(r"^(?P<file>[^:\n]+?):(?:(?P<line>\d+):(?P<col>\d+):)?\s*(?P<message>.*)$")


@dataclass(frozen=True)
class CompileError:
    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.message}"


class ProtoCompileError(Exception):
    """protoc refused the set; `errors` lists each problem with file, line and column."""

    def __init__(self, errors: list[CompileError]):
        super().__init__("; ".join(str(e) for e in errors) or "protoc failed")
        self.errors = errors


def normalize_path(path: str) -> str:
    """A safe relative import path ("a/b.proto"), or ValueError."""
    clean = PurePosixPath(path.replace("\\", "/").lstrip("/"))
    if not clean.parts or any(part in ("..", "") for part in clean.parts):
        raise ValueError(f"{path!r} is not a relative path inside the set")
    return str(clean)


def compile_protos(files: dict[str, str]) -> bytes:
    """Compile `files` (import path -> source text); return a serialized FileDescriptorSet.

    The set carries source info (comments, spans) and every import. Raises ProtoCompileError.
    """
    proto_files = {normalize_path(p): text for p, text in files.items() if p.endswith(".proto")}
    if not proto_files:
        raise ProtoCompileError([CompileError("(upload)", None, None, "no .proto files given")])
    if len(proto_files) > MAX_FILES or sum(len(t) for t in proto_files.values()) > MAX_TOTAL_BYTES:
        raise ProtoCompileError([CompileError("(upload)", None, None, "the set is too large")])
    with tempfile.TemporaryDirectory(prefix="protoc-") as tmp:
        root = Path(tmp) / "src"
        for path, text in proto_files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        out = Path(tmp) / "set.pb"
        args = [
            "protoc",
            f"-I{root}",
            f"-I{GOOGLEAPIS_ROOT}",
            f"-I{WELL_KNOWN_TYPES_ROOT}",
            "--include_source_info",
            "--include_imports",
            f"--descriptor_set_out={out}",
            *sorted(proto_files),
        ]
        code, diagnostics = _run_protoc(args, Path(tmp) / "stderr.txt")
        if code != 0 or not out.exists():
            raise ProtoCompileError(_parse_diagnostics(diagnostics, str(root)))
        return out.read_bytes()


def _run_protoc(args: list[str], stderr_path: Path) -> tuple[int, str]:
    with _PROTOC_LOCK, open(stderr_path, "w+b") as capture:
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            code = protoc.main(args)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        return code, capture.read().decode("utf-8", "replace")


def _parse_diagnostics(text: str, root: str) -> list[CompileError]:
    errors = []
    for raw in text.splitlines():
        line = raw.replace(root + "/", "").strip()
        if not line or line.startswith("warning:"):
            continue
        match = _DIAGNOSTIC.match(line)
        if match and match["file"].endswith(".proto"):
            errors.append(
                CompileError(
                    file=match["file"],
                    line=int(match["line"]) if match["line"] else None,
                    column=int(match["col"]) if match["col"] else None,
                    message=match["message"],
                )
            )
        else:
            errors.append(CompileError("(protoc)", None, None, line))
    return errors or [CompileError("(protoc)", None, None, "protoc failed without a message")]


def parse_descriptor_set(data: bytes) -> descriptor_pb2.FileDescriptorSet:
    fds = descriptor_pb2.FileDescriptorSet()
    fds.ParseFromString(data)
    return fds


BUF_CONFIG_FILES = ("buf.yaml", "buf.yml")


def read_proto_dir(directory: Path) -> dict[str, str]:
    """Every .proto under `directory`, keyed by its path relative to it (the include root), and
    the buf.yaml at its root when there is one."""
    directory = Path(directory)
    files = {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*.proto"))
    }
    for name in BUF_CONFIG_FILES:
        if (directory / name).is_file():
            files[name] = (directory / name).read_text(encoding="utf-8")
    return files
