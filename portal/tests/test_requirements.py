"""requirements.txt's Runtime section is what the product imports: a production image installed
from it alone would start. The sandbox, benches and tests may use the rest."""

import ast
import importlib.metadata as metadata
from pathlib import Path

from django.conf import settings
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PRODUCT = ["portal", "catalog", "deployments", "approvals", "apidocs", "integrations", "logs",
           "oncall", "notifications"]  # fmt: skip
# Named in settings as strings (INSTALLED_APPS, middleware, hashers), not imported by a module.
BY_SETTINGS = {"django-axes", "whitenoise", "django-template-partials", "gunicorn", "argon2-cffi"}


def _runtime_section() -> set[str]:
    text = (Path(settings.BASE_DIR) / "requirements.txt").read_text()
    runtime = text.split("# Development and tests", 1)[0]
    names = set()
    for line in runtime.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(canonicalize_name(Requirement(line).name))
    return names


def _closure(names: set[str]) -> set[str]:
    """`names` and everything they require, as installed."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            todo.append(canonicalize_name(requirement.name))
    return seen


def _imported_distributions() -> dict[str, set[str]]:
    by_module = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for package in PRODUCT:
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    for dist in by_module.get(module.split(".")[0], []):
                        found.setdefault(canonicalize_name(dist), set()).add(
                            str(path.relative_to(settings.BASE_DIR))
                        )
    return found


def test_every_distribution_the_product_imports_is_a_runtime_requirement():
    runtime = _closure(_runtime_section())
    missing = {
        dist: sorted(paths)[:3]
        for dist, paths in _imported_distributions().items()
        if dist not in runtime
    }
    assert not missing, f"imported by the product but not in requirements.txt's Runtime: {missing}"


def test_the_apps_and_middleware_named_in_settings_are_runtime_requirements():
    by_module = metadata.packages_distributions()
    runtime = _closure(_runtime_section())
    named = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE, *settings.AUTHENTICATION_BACKENDS]
    missing = {
        entry
        for entry in named
        for dist in by_module.get(entry.split(".")[0], [])
        if canonicalize_name(dist) not in runtime
    }
    assert not missing, missing
    assert BY_SETTINGS <= _runtime_section(), BY_SETTINGS - _runtime_section()


def test_the_check_can_fail():
    """A development tool is not runtime: were the product to import it, the first test would
    name it."""
    assert "pytest" not in _closure(_runtime_section())
    assert "hypothesis" not in _closure(_runtime_section())
