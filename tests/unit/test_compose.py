"""docker-compose.yml structure (no Docker engine runs here): services, health, mounts, secrets."""

import re

import yaml

from sco_green.paths import project_root

SERVICES = {
    "postgres",
    "warehouse",
    "redis",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "flower",
}


def _compose() -> dict:
    return yaml.safe_load((project_root() / "docker-compose.yml").read_text(encoding="utf-8"))


def test_services_of_a_celery_deployment_are_present() -> None:
    compose = _compose()
    assert SERVICES <= set(compose["services"])
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis")
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "@warehouse:" in env["WAREHOUSE_URL"]


def test_long_running_services_have_healthchecks() -> None:
    services = _compose()["services"]
    for name in SERVICES - {"airflow-init"}:
        assert services[name].get("healthcheck", {}).get("test"), name


def test_project_folders_are_mounted_and_the_image_is_built_here() -> None:
    worker = _compose()["services"]["airflow-worker"]
    mounts = {m.split(":")[1] for m in worker["volumes"]}
    assert {"/opt/project/dags", "/opt/project/dbt_project", "/opt/project/expectations"} <= mounts
    assert worker["build"] == "."
    assert "replicas" not in worker.get("deploy", {})  # scaled with --scale airflow-worker=N
    assert "flower" in _compose()["services"]["flower"]["profiles"]


def test_no_secret_literals_only_env_references() -> None:
    text = (project_root() / "docker-compose.yml").read_text(encoding="utf-8")
    for match in re.finditer(r"(?i)(password|secret|fernet)[A-Z_]*\s*:\s*(\S+)", text):
        assert match.group(2).startswith("${"), match.group(0)
    for url in re.findall(r"\w+://[^\s\"']+", text):
        if "@" in url:
            credentials = url.split("://", 1)[1].split("@", 1)[0]
            assert ":" not in credentials or "${" in credentials, url
    ignored = (project_root() / ".gitignore").read_text()
    assert ".env" in ignored.split() and (project_root() / ".env.example").exists()
