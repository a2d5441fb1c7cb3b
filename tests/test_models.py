"""``foreigndesk models install SOURCE``: a folder, an https (loopback http) URL or an S3 prefix,
always checked against SHA256SUMS before anything is installed.

The packages are real demo packages for pairs no other test uses (vi→th, en→lo, vi→lo), served
by a real HTTP server and a real S3 API server (moto) on loopback, and installed through
argostranslate's real path into the session's packages folder.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
from foreigndesk import cli
from foreigndesk.translate.demo_models import build_demo_package
from foreigndesk.translate.engine import ArgosEngine
from foreigndesk.translate.models import (
    MANIFEST,
    InstallError,
    ensure_models,
    install_source,
    installed_pairs,
    needed_pairs,
)


def _manifest(folder: Path, names: list[str] | None = None) -> None:
    names = names if names is not None else sorted(path.name for path in folder.glob("*.argosmodel"))
    lines = [f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}" for name in names]
    (folder / MANIFEST).write_text("# demo packages\n" + "\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    for pair in (("vi", "th"), ("en", "lo"), ("vi", "lo")):
        build_demo_package(*pair, folder)
    return folder


@pytest.fixture
def source(built, tmp_path) -> Path:
    """vi→th and en→lo with a correct manifest."""
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("translate-vi_th-demo.argosmodel", "translate-en_lo-demo.argosmodel"):
        shutil.copy(built / name, folder / name)
    _manifest(folder)
    return folder


def _uninstall(*pairs) -> None:
    import argostranslate.package

    for package in argostranslate.package.get_installed_packages():
        if (package.from_code, package.to_code) in pairs:
            argostranslate.package.uninstall(package)


def test_install_from_a_folder(demo_models, source):
    _uninstall(("vi", "th"), ("en", "lo"))
    installed = install_source(str(source))
    assert sorted(f"{p.from_code}-{p.to_code}" for p in installed) == ["en-lo", "vi-th"]
    assert {("vi", "th"), ("en", "lo")} <= set(installed_pairs())
    assert ArgosEngine().translate(["Chè Thái Nguyên."], "vi", "th") == ["Chè Thái Nguyên."]  # a pure copy model


def test_a_checksum_mismatch_installs_nothing(demo_models, built, source):
    _uninstall(("vi", "lo"))
    shutil.copy(built / "translate-vi_lo-demo.argosmodel", source / "translate-vi_lo-demo.argosmodel")
    _manifest(source)
    with open(source / "translate-vi_lo-demo.argosmodel", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(InstallError, match=r"translate-vi_lo-demo.argosmodel has sha256 [0-9a-f]{64}, SHA256SUMS says"):
        install_source(str(source))
    assert ("vi", "lo") not in installed_pairs()


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda folder: (folder / MANIFEST).unlink(), "no SHA256SUMS; create it with `cd "),
        (lambda folder: _manifest(folder, ["translate-vi_th-demo.argosmodel"]), "translate-en_lo-demo.argosmodel not listed in SHA256SUMS"),
        (lambda folder: (folder / "translate-en_lo-demo.argosmodel").unlink(), "lists translate-en_lo-demo.argosmodel but SOURCE has no such file"),
        (lambda folder: (folder / MANIFEST).write_text("abc  translate-vi_th-demo.argosmodel\n"), "SHA256SUMS line 1: expected '<sha256>  <file>'"),
        (lambda folder: (folder / MANIFEST).write_text(f"{'0' * 64}  ../x.argosmodel\n"), "must be a plain file name"),
    ],
)
def test_refused_sources_say_why(source, damage, message):
    damage(source)
    with pytest.raises(InstallError) as error:
        install_source(str(source))
    assert message in str(error.value)


def test_not_a_package(tmp_path):
    (tmp_path / "translate-vi_en-x.argosmodel").write_bytes(b"not a zip")
    _manifest(tmp_path)
    with pytest.raises(InstallError, match="not an Argos package"):
        install_source(str(tmp_path))


@pytest.fixture
def http_source(source):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(source))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_install_from_a_url(demo_models, source, http_source):
    _uninstall(("vi", "th"), ("en", "lo"))
    assert [p.path.name for p in install_source(http_source + "translate-vi_th-demo.argosmodel")] == ["translate-vi_th-demo.argosmodel"]
    assert ("vi", "th") in installed_pairs() and ("en", "lo") not in installed_pairs()
    assert sorted(p.to_code for p in install_source(http_source)) == ["lo", "th"]
    with open(source / "translate-en_lo-demo.argosmodel", "ab") as handle:
        handle.write(b"x")
    with pytest.raises(InstallError, match="translate-en_lo-demo.argosmodel has sha256"):
        install_source(http_source)


def test_plain_http_only_from_this_machine():
    with pytest.raises(InstallError, match="https only"):
        install_source("http://models.example.org/translate-vi_en.argosmodel")


@pytest.fixture(scope="module")
def s3_client():
    """A real S3 API (moto's threaded server) on loopback, with throwaway credentials."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                          aws_access_key_id="foreigndesk-test", aws_secret_access_key="foreigndesk-test-secret")
    client.create_bucket(Bucket="models")
    yield client
    server.stop()


def test_install_from_s3(demo_models, source, s3_client):
    _uninstall(("vi", "th"), ("en", "lo"))
    for path in source.iterdir():
        s3_client.upload_file(str(path), "models", f"release-1/{path.name}")
    installed = install_source("s3://models/release-1", s3_client=s3_client)
    assert sorted(p.to_code for p in installed) == ["lo", "th"]
    assert {("vi", "th"), ("en", "lo")} <= set(installed_pairs())
    s3_client.put_object(Bucket="models", Key="release-1/translate-en_lo-demo.argosmodel", Body=b"tampered")
    with pytest.raises(InstallError, match="translate-en_lo-demo.argosmodel has sha256"):
        install_source("s3://models/release-1/", s3_client=s3_client)
    with pytest.raises(InstallError, match="no SHA256SUMS object"):
        install_source("s3://models/empty", s3_client=s3_client)


def test_cli_install_and_list(demo_models, source, capsys):
    assert cli.main(["models", "install", str(source)]) == 0
    assert "installed vi-th 0.0.1 from translate-vi_th-demo.argosmodel (sha256 checked)" in capsys.readouterr().out
    assert cli.main(["models", "list", "--json"]) == 0
    rows = {row["pair"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["vi-th"]["demo"] is True and {"vi-en", "en-zh", "en-ko"} <= set(rows)
    (source / MANIFEST).unlink()
    assert cli.main(["models", "install", str(source)]) == 1
    assert "no SHA256SUMS" in capsys.readouterr().err


def test_ensure_models_checks_the_operator_folder(demo_models, built, tmp_path):
    shutil.copy(built / "translate-vi_th-demo.argosmodel", tmp_path / "translate-vi_th-demo.argosmodel")
    with pytest.raises(InstallError, match="no SHA256SUMS"):
        ensure_models(tmp_path, ("en",))
    _manifest(tmp_path)
    assert ensure_models(tmp_path, ("en",)) == {"installed": ["vi-th"], "demo": []}


def test_needed_pairs():
    assert needed_pairs(("en", "zh", "ko")) == [("vi", "en"), ("en", "zh"), ("en", "ko")]
    assert needed_pairs(["zh"]) == [("vi", "en"), ("en", "zh")]
