import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def backstage_examples(shared_dir) -> Path:
    path = shared_dir / "fixtures" / "backstage-examples"
    if not (path / "all.yaml").is_file():
        pytest.skip(f"{path}/all.yaml is absent")
    return path


@pytest.fixture
def example_paths(backstage_examples) -> list[str]:
    return [str(backstage_examples / "all.yaml"), str(backstage_examples / "acme-corp.yaml")]


@pytest.fixture
def write(tmp_path):
    """write("name.yaml", yaml_text) -> path, dedented."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write_file


@pytest.fixture(scope="session")
def backstage_backend(tmp_path_factory):
    """The real Backstage catalog backend on a free loopback port, serving the sandbox's small
    catalog (sandbox/backstage/catalog: 10 entities and 2 Locations)."""
    from sandbox import backstage

    if not backstage.installed():
        pytest.skip("sandbox/backstage/node_modules is missing: run `make install`")
    backend = backstage.BackstageBackend(directory=tmp_path_factory.mktemp("backstage"))
    backend.start(expect=12)
    yield backend
    backend.stop()
