"""Store the .proto files of a directory as a new version of a component's API."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from apidocs.protos import read_proto_dir
from apidocs.services import (
    BreakingChangeRejected,
    CompileFailed,
    api_definition_get_or_create,
    api_version_create,
    api_version_fetch_from_repository,
)
from catalog.models import Component
from portal.errors import PermissionDenied, PortalError


def component_lookup(ref: str) -> Component:
    """A component by `name` or entity ref (`kind:namespace/name`, `namespace/name`)."""
    kind, _, rest = ref.rpartition(":")
    namespace, _, name = rest.rpartition("/")
    query = Q(name=name)
    if namespace:
        query &= Q(metadata_namespace=namespace)
    if kind:
        query &= Q(entity_kind__iexact=kind)
    matches = list(Component.objects.filter(query)[:2])
    if not matches:
        raise CommandError(f"No component {ref!r}.")
    if len(matches) > 1:
        raise CommandError(f"{ref!r} is ambiguous; give the entity ref (kind:namespace/name).")
    return matches[0]


class Command(BaseCommand):
    help = "Compile DIR (the include root) and store it as a new version of COMPONENT's API."

    def add_arguments(self, parser):
        parser.add_argument("component", help="component name or entity ref")
        parser.add_argument("directory", nargs="?", help="local directory (the include root)")
        parser.add_argument(
            "--github",
            metavar="PATH",
            help="fetch PATH of the component's repository through the GitHub integration",
        )
        parser.add_argument("--ref", default="main", help="branch, tag or commit (with --github)")
        parser.add_argument("--name", default="protos", help="API definition name")
        parser.add_argument("--comment", default="Imported with import_protos")
        parser.add_argument("--accept-breaking", metavar="REASON", help="accept breaking changes")

    def handle(
        self, *args, component, directory, github, ref, name, comment, accept_breaking, **options
    ):
        if bool(directory) == bool(github):
            raise CommandError("Give either DIR or --github PATH.")
        target = component_lookup(component)
        files = None
        if directory:
            path = Path(directory)
            if not path.is_dir():
                raise CommandError(f"{directory}: not a directory")
            files = read_proto_dir(path)
        label = "command:import_protos"
        try:
            definition = api_definition_get_or_create(
                actor=None, component=target, name=name, actor_label=label
            )
            if github:
                version = api_version_fetch_from_repository(
                    actor=None,
                    api=definition,
                    path=github,
                    ref=ref,
                    accept_breaking_reason=accept_breaking,
                    actor_label=label,
                )
                files = version.files
            else:
                version = api_version_create(
                    actor=None,
                    api=definition,
                    files=files,
                    comment=comment,
                    source="command",
                    accept_breaking_reason=accept_breaking,
                    actor_label=label,
                )
        except CompileFailed as error:
            raise CommandError(
                "Compile errors:\n" + "\n".join(f"  {e}" for e in error.errors)
            ) from None
        except BreakingChangeRejected as error:
            lines = "\n".join(f"  {f}" for f in error.findings)
            raise CommandError(
                f"{error.message}\n{lines}\nRe-run with --accept-breaking REASON to store it."
            ) from None
        except (PermissionDenied, PortalError) as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Stored {version} ({len(files)} files).")
