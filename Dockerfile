# The project's Airflow image: the locked dependencies, the DAGs, dbt project and suites.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/sco-green \
    PATH=/opt/sco-green/bin:$PATH \
    SCO_GREEN_HOME=/opt/project \
    AIRFLOW_HOME=/opt/airflow

RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv==0.13.8 \
    && useradd --create-home --uid 50000 airflow

WORKDIR /opt/project
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
COPY expectations ./expectations
RUN uv sync --frozen --no-dev
COPY dags ./dags
COPY dbt_project ./dbt_project
# Cosmos renders the dbt graph from this manifest; dbt parse needs no database.
RUN SCO_DBT_HOST=localhost SCO_DBT_USER=parse SCO_DBT_DBNAME=parse \
    dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet \
    && chown -R airflow /opt/project

USER airflow
