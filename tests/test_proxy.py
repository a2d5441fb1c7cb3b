"""The compose stack's TLS front: its nginx configuration passes ``nginx -t`` with Debian's nginx.

The configuration is the one docker-compose.yaml mounts into the official nginx
image. Here it is wrapped in a minimal main configuration, as the image's own
``nginx.conf`` includes ``conf.d/*.conf``, and its certificate paths point at a
self-signed certificate generated into a temporary folder (nginx -t loads them,
so a missing or mismatched key fails). Installed by the Makefile (like Chromium).
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = REPO / "deploy" / "nginx" / "foreigndesk.conf"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "desk.thainguyen.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    crt, pem = folder / "tls.crt", folder / "tls.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    pem.chmod(0o600)
    return crt, pem


def _nginx_t(folder: Path, site: str) -> subprocess.CompletedProcess:
    crt, key = _self_signed(folder)
    site = site.replace("/etc/nginx/certs/tls.crt", str(crt)).replace("/etc/nginx/certs/tls.key", str(key))
    (folder / "default.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n  proxy_temp_path {folder}/proxy;\n"
        f"  include {folder}/default.conf;\n}}\n"
    )
    return subprocess.run([NGINX, "-t", "-p", str(folder), "-c", str(main), "-e", str(folder / "error.log")],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def nginx() -> str:
    assert Path(NGINX).exists(), f"{NGINX} missing: make test installs Debian's nginx"
    return NGINX


def test_the_proxy_configuration_passes_nginx_t(nginx, tmp_path):
    result = _nginx_t(tmp_path, CONF.read_text())
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_check_is_real_a_missing_key_or_a_typo_fails(nginx, tmp_path):
    text = CONF.read_text()
    (tmp_path / "a").mkdir()
    no_key = _nginx_t(tmp_path / "a", text.replace("    ssl_certificate_key /etc/nginx/certs/tls.key;\n", ""))
    assert no_key.returncode != 0 and "ssl_certificate_key" in no_key.stderr
    (tmp_path / "b").mkdir()
    typo = _nginx_t(tmp_path / "b", text.replace("proxy_set_header Host ", "proxy_set_heder Host "))
    assert typo.returncode != 0 and "proxy_set_heder" in typo.stderr


def test_http_only_redirects_and_https_forwards_to_airflow_with_secure_cookies():
    text = CONF.read_text()
    plain, tls = text.split("server {")[1], text.split("server {")[2]
    assert "listen 80" in plain and "return 301 https://$host$request_uri;" in plain and "proxy_pass" not in plain
    assert "listen 443 ssl" in tls and "proxy_pass $airflow;" in tls
    assert "set $airflow http://airflow-apiserver:8080;" in tls
    assert "proxy_cookie_flags ~ secure;" in tls and "X-Forwarded-Proto https" in tls
    assert "Strict-Transport-Security" in tls
