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
