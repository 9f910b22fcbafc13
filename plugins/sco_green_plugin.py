"""Airflow plugin folder entry: the project's plugin (report, audit page, dbt docs, Data Docs in the UI).

The plugin lives in the package (``sco_green.airflow_plugin``). An installed package registers it
through its ``airflow.plugins`` entry point, and Airflow reports a second registration as an
import error, so this file names the plugin only where that entry point is absent (a deployment
that copies this folder and puts the package on its path).
"""

from importlib.metadata import entry_points

if not any(e.name == "sco_green" for e in entry_points(group="airflow.plugins")):
    from sco_green.airflow_plugin import ScoGreenPlugin

    __all__ = ["ScoGreenPlugin"]
