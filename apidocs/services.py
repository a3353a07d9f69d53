"""Every write to the API registry: definitions and their immutable versions."""

import io
import zipfile
import zlib

from django.db import transaction

from catalog.models import Component
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError, ValidationFailed
from portal.permissions import permission_require

from . import contracts
from .contracts import StoredFinding
from .docs import build_docs
from .models import ApiDefinition, ApiSymbol, ApiVersion
from .protos import ProtoCompileError, compile_protos, normalize_path, parse_descriptor_set
from .selectors import Consumer, api_consumers, api_latest_version

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class CompileFailed(ValidationFailed):
    """The protobuf set does not compile; `errors` carries file, line, column and message."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(f"The .proto files do not compile ({len(errors)} error(s)).")


class BreakingChangeRejected(PortalError):
    """The new version breaks the latest one and no reason to accept it was given.

    `findings` are buf's (StoredFinding: path, position, rule, categories, message).
    """

    def __init__(self, findings: list[StoredFinding], consumers: list[Consumer]):
        self.findings = findings
        self.consumers = consumers
        super().__init__(
            f"This version has {len(findings)} breaking change(s); give a reason to accept it."
        )


def api_definition_get_or_create(
    *,
    actor,
    component: Component,
    name: str,
    kind: str = ApiDefinition.Kind.PROTOBUF,
    context: AuditContext | None = None,
    actor_label: str = "",
) -> ApiDefinition:
    """The definition `name` of `component`, created (and audited) when it does not exist."""
    existing = ApiDefinition.objects.filter(component=component, name=name).first()
    if existing is not None:
        return existing
    if actor is not None or not actor_label:  # a person is always checked
        permission_require(
            actor=actor,
            perm="apidocs.add_apidefinition",
            obj=component,
            action="apidocs.definition_create",
            component=component,
            context=context,
        )
    with transaction.atomic():
        definition = ApiDefinition.objects.create(component=component, name=name, kind=kind)
        audit_record(
            actor=actor,
            action="apidocs.definition_create",
            target=definition,
            component=component,
            after={"name": name, "kind": kind},
            context=context,
            actor_label=actor_label,
        )
    return definition


def api_version_create(
    *,
    actor,
    api: ApiDefinition,
    files: dict[str, str],
    comment: str = "",
    accept_breaking_reason: str | None = None,
    source: str = "upload",
    context: AuditContext | None = None,
    actor_label: str = "",
) -> ApiVersion:
    """Store a new immutable version of `api` from `files` (path -> text).

    Protobuf sets are compiled first (CompileFailed: nothing stored) and compared with the latest
    version using buf's default rules; breaking changes need `accept_breaking_reason`
    (BreakingChangeRejected otherwise), which is audited. `actor_label` with no `actor` marks a
    machine caller (management command, catalog importer) that has no user and is not
    permission-checked; a person passed as `actor` is checked whatever the label says.
    """
    if actor is not None or not actor_label:  # a person is always checked
        permission_require(
            actor=actor,
            perm="apidocs.add_apiversion",
            obj=api,
            action="apidocs.version_create",
            component=api.component,
            context=context,
        )
    files = _clean_files(files, api.kind)
    descriptor_set, findings, symbols, against = None, [], [], None
    if api.kind == ApiDefinition.Kind.PROTOBUF:
        descriptor_set = _compile(files)
        symbols = build_docs(parse_descriptor_set(descriptor_set), set(files)).symbols
        against, findings = _breaking_against_latest(api, files, descriptor_set)
    reason = (accept_breaking_reason or "").strip()
    if findings and not reason:
        raise BreakingChangeRejected(findings, api_consumers(component=api.component))
    with transaction.atomic():
        latest = ApiDefinition.objects.select_for_update().get(pk=api.pk).versions.first()
        if against is not None and latest.pk != against.pk:
            raise PortalError(
                f"{latest} was stored while this one was checked; nothing was stored. "
                "Upload again to check against it."
            )
        version = ApiVersion.objects.create(
            definition=api,
            number=(latest.number + 1) if latest else 1,
            author=actor if getattr(actor, "is_authenticated", False) else None,
            author_label=actor_label or getattr(actor, "username", ""),
            comment=comment[:500],
            source=source,
            files=files,
            descriptor_set=descriptor_set,
            breaking_against=against.number if against else None,
            breaking_policy=_policy_label(api, files) if against else "",
            breaking_findings=[f.as_dict() for f in findings],
            breaking_accepted_reason=reason if findings else "",
        )
        ApiSymbol.objects.bulk_create(
            ApiSymbol(version=version, full_name=full[:400], name=name[:200], kind=kind)
            for full, name, kind in symbols
        )
        audit_record(
            actor=actor,
            action="apidocs.version_create_breaking" if findings else "apidocs.version_create",
            target=version,
            component=api.component,
            after={
                "number": version.number,
                "files": sorted(files),
                "comment": comment,
                "breaking": [f.rule for f in findings],
            },
            reason=reason if findings else "",
            context=context,
            actor_label=actor_label,
        )
    return version


def _clean_files(files: dict[str, str], kind: str) -> dict[str, str]:
    if not files:
        raise ValidationFailed("No files were given.")
    cleaned = {}
    for path, text in files.items():
        try:
            cleaned[normalize_path(path)] = text
        except ValueError as error:
            raise ValidationFailed(str(error)) from None
    if kind == ApiDefinition.Kind.PROTOBUF:
        # The .proto files, and buf's configuration when it is at the root of the set.
        cleaned = {
            p: t for p, t in cleaned.items() if p.endswith(".proto") or p in contracts.CONFIG_FILES
        }
        if not any(p.endswith(".proto") for p in cleaned):
            raise ValidationFailed("No .proto files were given.")
        contracts.config_check(cleaned)
    return dict(sorted(cleaned.items()))


def _compile(files: dict[str, str]) -> bytes:
    try:
        return compile_protos(files)
    except ProtoCompileError as error:
        raise CompileFailed(error.errors) from None


def _is_production(api: ApiDefinition) -> bool:
    return api.component.lifecycle == "production"


def _policy_label(api: ApiDefinition, files: dict[str, str]) -> str:
    if contracts.config_breaking_section(files):
        return "buf.yaml"
    return ",".join(contracts.default_breaking_use(production=_is_production(api)))


def _breaking_against_latest(api, files, descriptor_set) -> tuple[ApiVersion | None, list]:
    """(the version compared with, buf's findings); (None, []) for a first version.

    Runs buf outside any transaction; BufUnavailable (nothing stored) when it cannot run.
    """
    latest = api_latest_version(definition=api)
    if latest is None or not latest.descriptor_set:
        return None, []
    findings = contracts.breaking_findings(
        current=contracts.proto_set(files, descriptor_set),
        against=contracts.proto_set(latest.files, bytes(latest.descriptor_set)),
        production=_is_production(api),
    )
    return latest, findings


def api_breaking_preview(*, api: ApiDefinition, files: dict[str, str]) -> list[StoredFinding]:
    """Findings a proposed upload would have against the latest version (nothing is stored)."""
    files = _clean_files(files, api.kind)
    return _breaking_against_latest(api, files, _compile(files))[1]


def api_version_lint(*, version: ApiVersion) -> list[dict]:
    """buf lint of a stored protobuf version, computed on first use and kept on the version.

    Lazy so that storing versions (catalog import: thousands) never waits for lint. The result
    is derived from the immutable files, so it is stored without an audit row; a concurrent
    first view computes it twice and the first write wins. BufUnavailable when buf cannot run.
    """
    if version.lint_findings is not None or not version.descriptor_set:
        return version.lint_findings or []
    findings = contracts.lint_findings(
        files=contracts.proto_set(version.files, bytes(version.descriptor_set))
    )
    stored = [f.as_dict() for f in findings]
    ApiVersion.objects.filter(pk=version.pk, lint_findings__isnull=True).update(
        lint_findings=stored
    )
    version.lint_findings = stored
    return stored


def api_version_format_diff(*, version: ApiVersion) -> str:
    """What `buf format` would change in a stored version (computed each time, not stored)."""
    return contracts.format_diff(
        files=contracts.proto_set(version.files, bytes(version.descriptor_set or b""))
    )


def upload_files_read(uploaded) -> dict[str, str]:
    """Files from an upload: several .proto/.yaml/.json files, or a zip of them."""
    files: dict[str, str] = {}
    total = 0
    for item in uploaded:
        data = item.read(MAX_UPLOAD_BYTES + 1)
        total += len(data)
        if total > MAX_UPLOAD_BYTES:
            raise ValidationFailed("The upload is larger than 10 MB.")
        if item.name.lower().endswith(".zip"):
            files.update(_read_zip(data))
        else:
            files[item.name] = _decode(item.name, data)
    return files


# What a damaged, encrypted or oddly compressed archive raises from zipfile and zlib.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
               ValueError, OSError)  # fmt: skip


def _read_zip(data: bytes) -> dict[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return _zip_members(archive)
    except _ZIP_ERRORS as error:
        raise ValidationFailed(f"The zip file cannot be read ({error}).") from None


def _zip_members(archive: zipfile.ZipFile) -> dict[str, str]:
    files, total = {}, 0
    for info in archive.infolist():
        if info.is_dir() or not info.filename.endswith((".proto", ".yaml", ".yml", ".json")):
            continue
        total += info.file_size
        if total > MAX_UPLOAD_BYTES:
            raise ValidationFailed("The zip file expands to more than 10 MB.")
        # Read at most the declared size (+1 to notice a member that lies about its size).
        with archive.open(info) as member:
            content = member.read(info.file_size + 1)
        if len(content) > info.file_size:
            raise ValidationFailed(f"{info.filename} is larger than the zip file says.")
        files[info.filename] = _decode(info.filename, content)
    return files


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{name} is not UTF-8 text.") from None


def api_version_from_backstage(
    *,
    api_component: Component,
    actor=None,
    actor_label: str = "catalog-import",
    accept_breaking_reason: str | None = None,
) -> ApiVersion | None:
    """Turn a catalog API entity's `definition` (Backstage spec.definition) into a version.

    For the catalog importer: call it after saving an `API` component. grpc definitions become a
    one-file protobuf set `<name>.proto`, openapi ones an OpenAPI document; other types (asyncapi,
    graphql, trpc) are skipped (None). Re-importing an unchanged definition stores nothing.
    """
    spec_type = (api_component.spec_type or "").lower()
    text = api_component.definition or ""
    if not text.strip() or spec_type not in ("grpc", "openapi"):
        return None
    if spec_type == "grpc":
        kind, files = ApiDefinition.Kind.PROTOBUF, {f"{api_component.name}.proto": text}
    else:
        kind, files = ApiDefinition.Kind.OPENAPI, {"openapi.yaml": text}
    definition = api_definition_get_or_create(
        actor=actor,
        component=api_component,
        name=api_component.name[:120],
        kind=kind,
        actor_label=actor_label,
    )
    latest = api_latest_version(definition=definition)
    if latest is not None and latest.files == files:
        return None
    return api_version_create(
        actor=actor,
        api=definition,
        files=files,
        comment="Imported from the catalog definition",
        source="catalog",
        actor_label=actor_label,
        accept_breaking_reason=accept_breaking_reason,
    )


def api_version_from_repository(
    *,
    actor,
    api: ApiDefinition,
    files: dict[str, str],
    repository: str,
    ref: str,
    path: str,
    accept_breaking_reason: str | None = None,
    context: AuditContext | None = None,
) -> ApiVersion:
    """A version from files read out of the component's repository by the GitHub adapter.

    The caller fetches (outside any transaction) the texts under `path` at `ref` with
    `integrations.github` and passes them keyed by their import path; this stores them like an
    upload, recording where they came from.
    """
    return api_version_create(
        actor=actor,
        api=api,
        files=files,
        comment=f"From {repository}@{ref}:{path}",
        source="repository",
        accept_breaking_reason=accept_breaking_reason,
        context=context,
    )


def api_version_fetch_from_repository(
    *,
    actor,
    api: ApiDefinition,
    path: str,
    ref: str,
    accept_breaking_reason: str | None = None,
    context: AuditContext | None = None,
    actor_label: str = "",
    client=None,
) -> ApiVersion:
    """Fetch the .proto files under `path` at `ref` of the component's repository and store them.

    Permission as for an upload (checked before any call to GitHub). The fetch runs outside any
    transaction; GitHub being down raises PortalError with what to do, and nothing is stored.
    `path` is the include root (files are keyed by their path below it).
    """
    from integrations.errors import IntegrationError
    from integrations.github import github_client

    if actor is not None or not actor_label:  # a person is always checked
        permission_require(
            actor=actor,
            perm="apidocs.add_apiversion",
            obj=api,
            action="apidocs.version_create",
            component=api.component,
            context=context,
        )
    if api.kind != ApiDefinition.Kind.PROTOBUF:
        raise ValidationFailed("Only protobuf definitions can be fetched from a repository.")
    repository = (api.component.repository or "").strip()
    if not repository:
        raise ValidationFailed(
            f"{api.component.name} has no repository in the catalog; set it, or upload the files."
        )
    path, ref = (path or "").strip() or "proto/", (ref or "").strip() or "main"
    try:
        files = (client or github_client()).proto_files_fetch(repository, path, ref=ref)
    except IntegrationError as error:
        hint = (
            "GitHub did not answer; nothing was stored. Try again in a few minutes, or upload "
            "the files instead."
            if error.transient
            else "Nothing was stored. Check the path and the ref (branch, tag or commit)."
        )
        raise PortalError(f"Could not fetch from {repository}: {error.message}. {hint}") from None
    if actor is None and actor_label:
        return api_version_create(
            actor=actor,
            api=api,
            files=files,
            comment=f"From {repository}@{ref}:{path}",
            source="repository",
            accept_breaking_reason=accept_breaking_reason,
            context=context,
            actor_label=actor_label,
        )
    return api_version_from_repository(
        actor=actor,
        api=api,
        files=files,
        repository=repository,
        ref=ref,
        path=path,
        accept_breaking_reason=accept_breaking_reason,
        context=context,
    )
