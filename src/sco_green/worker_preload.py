"""The validation engine, imported by a worker before it forks the tasks that validate.

Importing GX costs a few seconds of CPU, paid again by every task process that validates or
renders Data Docs. Airflow forks each task from its worker (LocalExecutor) or from the Celery
pool's process, so a worker that imported GX first hands every task a warm copy. Importing
this module is the import: Celery's ``imports`` setting takes module names.
"""

from __future__ import annotations

import logging

# GX logs each function it registers for its API docs at INFO: a thousand lines per import.
logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)

import great_expectations  # noqa: E402, F401

import expectations.suites  # noqa: E402, F401 - registers the project's custom expectation
