#!/usr/bin/env python3
"""Check that the locks are in step with requirements.txt (run by `make test`).

requirements.txt is the human-edited list of floors; requirements.lock is what `make lock`
compiles from it (exact pins with hashes). In step means: every requirement of the list is pinned
in the lock at a version its specifier allows, and the lock pins nothing that it says came from
the list but the list no longer names. Offline: it does not ask PyPI for newer versions.

    python scripts/check_lock.py [requirements.txt] [requirements.lock] [requirements-runtime.lock]

requirements-runtime.lock is what the production image installs: the Runtime section of
requirements.txt (everything before "# Development and tests"), compiled with requirements.lock as
constraints, so it pins the same versions and none of the development tools.

Exit 0 when in step; 1 with one line per problem and what to run otherwise.
"""

import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
FROM_LIST = "-r requirements.txt"
DEVELOPMENT = "# Development and tests"


def runtime_section(text: str) -> str:
    """The part of requirements.txt a production image needs."""
    return text.split(DEVELOPMENT, 1)[0]


def requirements(text: str) -> list[Requirement]:
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            found.append(Requirement(line))
    return found


def pins(text: str) -> tuple[dict[str, set[str]], set[str]]:
    """{name: versions pinned} and the names the lock says came from requirements.txt."""
    pinned: dict[str, set[str]] = {}
    from_list: set[str] = set()
    current = None
    for line in text.splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match[1])
            pinned.setdefault(current, set()).add(match[2])
        elif current and FROM_LIST in line:
            from_list.add(current)
    return pinned, from_list


def problems(requirements_text: str, lock_text: str) -> list[str]:
    try:
        wanted = requirements(requirements_text)
    except InvalidRequirement as exc:
        return [f"requirements.txt: {exc}"]
    pinned, from_list = pins(lock_text)
    found = []
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        versions = pinned.get(name)
        if not versions:
            found.append(f"{requirement} is in requirements.txt but not pinned in the lock")
        elif not any(requirement.specifier.contains(v, prereleases=True) for v in versions):
            found.append(
                f"{requirement} is in requirements.txt but the lock pins "
                f"{name}=={', '.join(sorted(versions))}"
            )
    for name in sorted(from_list - {canonicalize_name(r.name) for r in wanted}):
        found.append(f"the lock pins {name} for requirements.txt, which no longer names it")
    return found


def runtime_problems(requirements_text: str, runtime_lock: str, full_lock: str) -> list[str]:
    """The runtime lock pins each runtime requirement within its range, and every pin at the
    version the full lock pins. (It is compiled from the Runtime section alone, so a development
    tool is in it only as some runtime package's dependency; test_runtime_lock.py checks that
    the product runs on it.)"""
    try:
        runtime = requirements(runtime_section(requirements_text))
    except InvalidRequirement as exc:
        return [f"requirements.txt: {exc}"]
    pinned, _ = pins(runtime_lock)
    full, _ = pins(full_lock)
    found = []
    for requirement in runtime:
        name = canonicalize_name(requirement.name)
        versions = pinned.get(name)
        if not versions or not any(
            requirement.specifier.contains(v, prereleases=True) for v in versions
        ):
            found.append(f"{requirement} (Runtime) is not pinned within its range")
    for name, versions in sorted(pinned.items()):
        if versions != full.get(name):
            found.append(
                f"{name}=={', '.join(sorted(versions))} differs from requirements.lock "
                f"({', '.join(sorted(full.get(name, {'nothing'})))})"
            )
    return found


def main(argv: list[str]) -> int:
    listed = Path(argv[1] if len(argv) > 1 else "requirements.txt")
    lock = Path(argv[2] if len(argv) > 2 else "requirements.lock")
    if not lock.exists():
        print(f"{lock} is missing: run `make lock` and commit it.", file=sys.stderr)
        return 1
    found = problems(listed.read_text(), lock.read_text())
    for problem in found:
        print(f"{lock} is out of step with {listed}: {problem}", file=sys.stderr)
    if len(argv) > 3:
        runtime = Path(argv[3])
        if not runtime.exists():
            print(f"{runtime} is missing: run `make lock` and commit it.", file=sys.stderr)
            return 1
        more = runtime_problems(listed.read_text(), runtime.read_text(), lock.read_text())
        for problem in more:
            print(f"{runtime} is out of step: {problem}", file=sys.stderr)
        found += more
    if found:
        print("Run `make lock` and commit the locks.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
