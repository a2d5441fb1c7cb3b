"""``foreigndesk models compare``: a candidate package scored against the installed one, never installed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from foreigndesk.cli import main
from foreigndesk.core.store import LocalStore
from foreigndesk.translate.demo_models import LEXICONS, build_demo_package
from quality_desk import SENTENCES, add_reviewed


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file, folder and link under ``folder`` with its content hash: equal means byte-identical."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def fair_store(tmp_path_factory, demo_models):
    """Six articles whose reviewers all turned the copied 'hội chợ' into 'fair' (en), '博览会', '박람회'."""
    store = LocalStore(tmp_path_factory.mktemp("compare") / "store")
    for number in range(len(SENTENCES)):
        add_reviewed(store, number, title=f"Hội chợ {'ABCDEF'[number]}")
    return store


@pytest.fixture(scope="module")
def candidates(tmp_path_factory):
    """A vi→en demo that knows 'hội chợ' (better on purpose) and a rebuild of the installed one (identical)."""
    folder = tmp_path_factory.mktemp("candidates")
    better = build_demo_package("vi", "en", folder / "better",
                                LEXICONS[("vi", "en")] | {"hội chợ": "fair", "Hội chợ": "Fair"}, version="0.0.2")
    same = build_demo_package("vi", "en", folder / "same")
    return {"better": better, "same": same}


def compare(store, package, *extra) -> dict:
    return main(["models", "compare", str(package), "--store", str(store.root), "--json", *extra])


def test_a_better_candidate_shows_a_positive_difference_with_its_interval(fair_store, candidates, demo_models, capsys):
    before = tree_digest(demo_models)
    assert compare(fair_store, candidates["better"], "--lang", "en") == 0
    result = json.loads(capsys.readouterr().out)
    assert tree_digest(demo_models) == before, "the installed packages folder is byte-identical"
    [en] = result["languages"]
    assert (en["language"], en["articles"], en["segments"]) == ("en", 6, 12)
    assert en["installed_model"] == "translate-vi_en-demo (0.0.1)"
    assert en["candidate_model"] == "translate-vi_en-demo (0.0.2)"
    chrf, ter = en["metrics"]
    assert chrf["metric"] == "chrF" and chrf["candidate"] == 100.0 and chrf["installed"] < 90
    assert chrf["difference"] > 0 and 0 < chrf["ci_low"] <= chrf["difference"] <= chrf["ci_high"]
    assert ter["metric"] == "TER" and ter["candidate"] == 0.0
    assert ter["difference"] < 0 and ter["ci_low"] <= ter["difference"] <= ter["ci_high"] < 0
    assert chrf["p_value"] < 0.05

    assert main(["models", "compare", str(candidates["better"]), "--store", str(fair_store.root), "--lang", "en",
                 "--limit", "2"]) == 0
    table = capsys.readouterr().out
    assert "2 approved articles, 4 segments" in table
    assert [line.split()[:2] + line.split()[-2:] for line in table.splitlines() if line.startswith("en ")] == [
        ["en", "chrF", "candidate", "better"], ["en", "TER", "candidate", "better"]]


def test_an_identical_package_reports_no_difference_in_every_language(fair_store, candidates, demo_models, capsys):
    before = tree_digest(demo_models)
    assert compare(fair_store, candidates["same"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert tree_digest(demo_models) == before
    assert [lang["language"] for lang in result["languages"]] == ["en", "zh", "ko"], "vi→en feeds the pivot"
    for lang in result["languages"]:
        for metric in lang["metrics"]:
            assert metric["installed"] == metric["candidate"]
            assert (metric["difference"], metric["ci_low"], metric["ci_high"], metric["p_value"]) == (0, 0, 0, 1), metric


def test_unusable_candidates_and_empty_stores_are_refused(fair_store, tmp_path, demo_models, capsys):
    zh = build_demo_package("en", "zh", tmp_path)
    assert compare(fair_store, zh, "--lang", "en") == 1
    assert "only changes zh" in capsys.readouterr().err
    odd = build_demo_package("en", "vi", tmp_path / "odd")
    assert compare(fair_store, odd) == 1
    assert "never used" in capsys.readouterr().err
    assert compare(LocalStore(tmp_path / "empty"), zh) == 1
    assert "no approved zh translation" in capsys.readouterr().err


def test_the_worker_refuses_the_network():
    """The translation passes run with an audit hook that turns any connection into an error."""
    code = ("from foreigndesk.quality.compare_worker import forbid_network; forbid_network(); import socket; "
            "socket.create_connection(('127.0.0.1', 9), timeout=1)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO / "plugins")))
    assert done.returncode != 0 and "NetworkForbidden: models compare downloads nothing" in done.stderr
