"""The production-like stack's compose file: every component present, no secret inline, no telemetry.

No Docker engine runs here, so the file is checked as data: the services an
Airflow 3 Celery deployment needs, the desk's settings in every desk container,
and every secret taken from the environment (``${NAME:?…}``), never written in.
"""

from __future__ import annotations

import re

import yaml
from conftest import REPO

AIRFLOW_COMPONENTS = {
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
    "airflow-worker", "airflow-triggerer",
}
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|KEY_ID|ACCESS_KEY", re.IGNORECASE)


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def test_stack_has_every_airflow_component_and_its_backing_services():
    services = _compose()["services"]
    assert AIRFLOW_COMPONENTS | {"postgres", "redis"} == set(services)


def test_every_desk_container_runs_the_desk_image_without_telemetry():
    services = _compose()["services"]
    for name in AIRFLOW_COMPONENTS:
        env = services[name]["environment"]
        assert env["ORT_DISABLE_TELEMETRY"] == "1", name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert services[name]["build"] == ".", name
        assert "./plugins:/opt/airflow/plugins" in services[name]["volumes"], name


def test_no_secret_is_written_into_the_compose_file():
    services = _compose()["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key):
                assert str(value).startswith("${") and ":?" in str(value), f"{name}.{key} must come from .env"
        for key, value in (service.get("environment") or {}).items():
            if "://" in str(value) and "@" in str(value):
                assert "${POSTGRES_PASSWORD" in str(value), f"{name}.{key} embeds a credential"


def test_init_migrates_installs_models_and_seeds_the_reviewers_once():
    command = " ".join(_compose()["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in command
    assert "foreigndesk models ensure" in command
    assert "foreigndesk seed-reviewers" in command
