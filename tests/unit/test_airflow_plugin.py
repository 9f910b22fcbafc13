"""The plugin loads in Airflow's own plugin manager, as the api-server loads it."""

from airflow import plugins_manager


def test_the_plugin_loads_without_errors_with_its_app_and_menu_entries() -> None:
    assert plugins_manager.get_import_errors() == {}  # also: not registered twice (folder and entry point)
    apps, _ = plugins_manager.get_fastapi_plugins()
    [ours] = [a for a in apps if a["url_prefix"] == "/sco-green"]
    paths = {route.path for route in ours["app"].routes}
    assert {"/report/{year}", "/audit", "/audit/{load_id}", "/dbt-docs", "/data-docs/{path:path}"} <= paths
    info = {p["name"]: p for p in plugins_manager.get_plugin_info()}
    views = {v["name"]: v["href"] for v in info["sco_green"]["external_views"]}
    assert sorted(views.values()) == [
        "/sco-green/audit",
        "/sco-green/data-docs",
        "/sco-green/dbt-docs",
        "/sco-green/report",
    ]
