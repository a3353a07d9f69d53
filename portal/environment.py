"""Reading configuration and secrets from the environment (settings and adapters alike).

A secret can be given as NAME, or as NAME_FILE naming a file that holds it (Docker and
Kubernetes secrets), so it never has to be stored in the database.
"""

import os
from pathlib import Path


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME from the environment, or from the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)
