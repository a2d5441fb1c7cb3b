"""``foreigndesk ingest``: the JSON it prints and its exit codes (0 = the run worked, quarantines included)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

from conftest import REPO
from drops import article_bytes
from foreigndesk.cli import main


def run(capsys, *argv: str) -> tuple[int, dict | str, str]:
    code = main(["ingest", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and out else out), err


def test_json_lists_accepted_unchanged_and_quarantined_and_exits_0(desk, capsys):
    inbox = desk / "inbox"
    (inbox / "baothainguyen" / "a.md").write_bytes(article_bytes(id="btn-a"))
    bad = b"no front matter\n"
    (inbox / "tntv" / "bad.md").write_bytes(bad)
    code, printed, _ = run(capsys, "--json")
    assert code == 0
    assert printed == {
        "accepted": ["btn-a"],
        "unchanged": [],
        "quarantined": [{"file": str(inbox / "tntv" / "bad.md"), "reason": printed["quarantined"][0]["reason"]}],
    }
    assert printed["quarantined"][0]["reason"].startswith("bad.md: no front matter")
    assert (desk / "store" / "quarantine" / "tntv" / hashlib.sha256(bad).hexdigest() / "original.bin").read_bytes() == bad

    (inbox / "baothainguyen" / "a-again.md").write_bytes(article_bytes(id="btn-a"))
    code, printed, _ = run(capsys, "--json")
    assert (code, printed) == (0, {"accepted": [], "unchanged": ["btn-a"], "quarantined": []})


def test_inbox_and_store_options_override_the_configuration(desk, tmp_path, capsys):
    other_inbox, other_store = tmp_path / "elsewhere", tmp_path / "other-store"
    (other_inbox / "tntv").mkdir(parents=True)
    (other_inbox / "tntv" / "t.md").write_bytes(article_bytes(outlet="tntv", id="tntv-t"))
    code, printed, _ = run(capsys, "--inbox", str(other_inbox), "--store", str(other_store), "--json")
    assert (code, printed["accepted"]) == (0, ["tntv-t"])
    assert list((other_store / "articles").iterdir())[0].name == "tntv-t"
    assert not (desk / "store" / "articles").exists()


def test_an_s3_store_url_uses_the_standard_aws_endpoint_setting(desk, s3_bucket, s3_endpoint, monkeypatch, capsys):
    client, bucket = s3_bucket
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    (desk / "inbox" / "tntv" / "t.md").write_bytes(article_bytes(outlet="tntv", id="tntv-s3"))
    code, printed, _ = run(capsys, "--store", f"s3://{bucket}/desk", "--json")
    assert (code, printed["accepted"]) == (0, ["tntv-s3"])
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert "desk/claims/tntv-s3.json" in keys and any(k.endswith("/source.md") for k in keys)


def test_a_failing_store_exits_non_zero_and_loses_nothing(desk, s3_endpoint, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    drop = desk / "inbox" / "tntv" / "t.md"
    drop.write_bytes(article_bytes(outlet="tntv", id="tntv-kept"))
    code, printed, err = run(capsys, "--store", "s3://bucket-that-was-never-made/desk", "--json")
    assert code == 1 and printed == ""
    assert "the run failed, nothing was lost" in err and "bucket 'bucket-that-was-never-made' does not exist" in err
    assert drop.exists(), "the drop waits for the next run"


def test_a_source_that_fails_exits_1_after_ingesting_the_rest(desk, monkeypatch, capsys):
    monkeypatch.setenv("FOREIGNDESK_FEED_TNTV", "http://127.0.0.1:9/feed.json")  # discard port: refused
    (desk / "inbox" / "baothainguyen" / "a.md").write_bytes(article_bytes(id="btn-ok"))
    code, printed, err = run(capsys, "--json")
    assert code == 1 and printed["accepted"] == ["btn-ok"]
    assert "source failed: http://127.0.0.1:9/feed.json: could not fetch the feed (ConnectionError)" in err


def test_a_missing_inbox_option_is_a_configuration_error(desk, capsys):
    code, _, err = run(capsys, "--inbox", str(desk / "nope"))
    assert code == 2 and "--inbox" in err and "is not a folder" in err


def test_plain_output_names_flags(desk, capsys):
    (desk / "inbox" / "tntv" / "h.md").write_bytes(article_bytes(outlet="tntv", id="tntv-h", body="<b>x</b>\n"))
    code, printed, _ = run(capsys)
    assert code == 0 and printed.splitlines()[0].startswith("accepted    tntv-h (") and "[flagged: 1]" in printed


def test_the_installed_command_runs(desk):
    (desk / "inbox" / "tntv" / "t.md").write_bytes(article_bytes(outlet="tntv", id="tntv-cmd"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    done = subprocess.run([sys.executable, "-m", "foreigndesk.cli", "ingest", "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"accepted": ["tntv-cmd"], "unchanged": [], "quarantined": []}
