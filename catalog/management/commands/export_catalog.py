"""python manage.py export_catalog DIR"""

from django.core.management.base import BaseCommand

from catalog.backstage import catalog_export


class Command(BaseCommand):
    help = (
        "Write the catalog as Backstage descriptors: DIR/all.yaml (a Location) + a file per kind."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR")

    def handle(self, *args, directory, **options):
        counts = catalog_export(directory=directory)
        summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        self.stdout.write(f"Wrote {summary or 'nothing'} to {directory}/all.yaml and its targets")
