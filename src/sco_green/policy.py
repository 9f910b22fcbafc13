"""Airflow cluster policy for the project's DAGs, registered through the ``airflow.policy`` entry
point so every Airflow that installs the project (local, Celery workers, a team's image) applies it.

Nightly loads must be scheduled deliberately: a bare cron string hides which timetable (and which
time zone) the scheduler uses, and an implicit ``catchup`` depends on a deployment setting, so the
same DAG could replay months of missed nights on one cluster and not on another. A DAG breaking
either rule is rejected at parse time (the DagBag records an import error instead of the DAG).
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from airflow.exceptions import AirflowClusterPolicyViolation
from airflow.policies import hookimpl

DAG_CONSTRUCTORS = {"DAG", "dag"}
PROJECT_PACKAGE = "sco_green"


def _dag_calls(tree: ast.AST) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name in DAG_CONSTRUCTORS:
                calls.append(node)
    return calls


def _project_modules(tree: ast.AST) -> list[Path]:
    """Source files of the project modules a DAG file imports from (its DAG factories)."""
    paths = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PROJECT_PACKAGE:
            spec = importlib.util.find_spec(node.module)
            if spec and spec.origin and spec.origin.endswith(".py"):
                paths.append(Path(spec.origin))
    return paths


@cache
def _constructor_calls(fileloc: str) -> tuple[tuple[str, int, frozenset[str]], ...]:
    """(file, line, keyword names) of each DAG constructor call reachable from the DAG file."""
    source = Path(fileloc)
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=fileloc)
    found = []
    for path in [source, *_project_modules(tree)]:
        module = tree if path == source else ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for call in _dag_calls(module):
            found.append((str(path), call.lineno, frozenset(k.arg for k in call.keywords if k.arg)))
    return tuple(found)


def violations(dag: Any) -> list[str]:
    """Why ``dag`` breaks the project's scheduling policy (empty when it does not)."""
    problems = []
    if isinstance(dag.schedule, str):
        problems.append(
            f"schedule={dag.schedule!r} is a bare string: pass a timetable "
            "(e.g. CronTriggerTimetable(cron, timezone=...)) or Assets"
        )
    fileloc = getattr(dag, "fileloc", None)
    if fileloc and Path(fileloc).suffix == ".py" and Path(fileloc).is_file():
        calls = _constructor_calls(fileloc)
        if not calls:
            problems.append("no DAG constructor found in the DAG file or the project modules it imports")
        for path, line, keywords in calls:
            if "catchup" not in keywords:
                problems.append(f"catchup left implicit at {Path(path).name}:{line}: pass catchup=True or False")
    return problems


@hookimpl
def dag_policy(dag: Any) -> None:
    problems = violations(dag)
    if problems:
        raise AirflowClusterPolicyViolation(f"DAG {dag.dag_id}: " + "; ".join(problems))
