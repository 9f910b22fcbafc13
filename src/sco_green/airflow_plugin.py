"""The sco-green Airflow plugin: the report, the audit page and both documentation sites in Airflow's UI.

Airflow finds it through the ``airflow.plugins`` entry point of the installed package, or through
``plugins/sco_green_plugin.py`` in Airflow's plugin folder (``sco-green up`` points Airflow there).
It mounts ``sco_green.web`` on the api-server at ``/sco-green`` and adds the pages to the UI's
menu, each shown inside the UI; every page needs an Airflow login.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from sco_green.web import create_app

PREFIX = "/sco-green"
CATEGORY = "SCO green"


def _view(name: str, path: str, route: str) -> dict[str, str]:
    return {"name": name, "href": f"{PREFIX}/{path}", "url_route": route, "category": CATEGORY, "destination": "nav"}


class ScoGreenPlugin(AirflowPlugin):
    name = "sco_green"
    fastapi_apps = [{"app": create_app(), "url_prefix": PREFIX, "name": "SCO green report, audit and docs"}]
    external_views = [
        _view("Report 报告", "report", "sco-green-report"),
        _view("Audit 审计", "audit", "sco-green-audit"),
        _view("dbt docs 数据模型文档", "dbt-docs", "sco-green-dbt-docs"),
        _view("Data Docs 校验文档", "data-docs", "sco-green-data-docs"),
    ]
