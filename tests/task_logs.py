"""Reading Airflow's task logs from the log folder, as an engineer would after a night."""

from __future__ import annotations

from pathlib import Path

PRELOADED = "validation engine (GX) already loaded in this process"
IMPORTED = "validation engine (GX) imported by this process"


def validate_task_logs(base_log_folder: Path) -> list[str]:
    """The text of every attempt of every ingest DAG's ``validate_files`` task."""
    pattern = "dag_id=ingest_*/run_id=*/task_id=validate_files/attempt=*.log"
    return [path.read_text(encoding="utf-8") for path in sorted(base_log_folder.glob(pattern))]


def assert_validating_tasks_found_the_engine_preloaded(base_log_folder: Path, validating_tasks: int) -> None:
    """The worker imported GX before forking: every task that validated found it loaded."""
    texts = validate_task_logs(base_log_folder)
    assert sum(PRELOADED in text for text in texts) >= validating_tasks, texts
    assert not [text for text in texts if IMPORTED in text]
