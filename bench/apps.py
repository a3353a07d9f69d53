from django.apps import AppConfig


class BenchConfig(AppConfig):
    """`make bench`: the catalog, import, release and polling figures (docs/benchmarks.md)."""

    name = "bench"
    verbose_name = "Benchmarks"
