"""Where the project's files live.

The package is installed editable from the repository, so the dbt project, the DAGs
and the seeds are found relative to it; ``SCO_GREEN_HOME`` overrides that for an
image that copies the repository somewhere else.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The repository root (holds dags/, dbt_project/, expectations/)."""
    env = os.environ.get("SCO_GREEN_HOME")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


def dbt_project_dir() -> Path:
    return project_root() / "dbt_project"


def seeds_dir() -> Path:
    return dbt_project_dir() / "seeds"


def dags_dir() -> Path:
    return project_root() / "dags"


def plugins_dir() -> Path:
    """Airflow's plugin folder: the sco-green plugin (report, audit page and docs in the UI)."""
    return project_root() / "plugins"


def var_dir() -> Path:
    """Runtime state (embedded warehouse, Airflow home, logs, docs); never committed."""
    env = os.environ.get("SCO_GREEN_VAR")
    path = Path(env).resolve() if env else Path.cwd() / "var"
    path.mkdir(parents=True, exist_ok=True)
    return path
