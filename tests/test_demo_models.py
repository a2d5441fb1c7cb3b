"""Demo packages: built offline, then installed and run through argostranslate's real path.

argostranslate reads ARGOS_PACKAGES_DIR and the XDG_* folders when it is first
imported, so every Argos run happens in a fresh subprocess whose HOME, XDG_* and
packages folder all live in tmp_path, with sockets disabled before the import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from foreigndesk.translate.demo_models import (
    DEMO_PAIRS,
    LEXICONS,
    build_demo_package,
    build_demo_packages,
    is_demo_package_dir,
)

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"

VI = "Tỉnh Thái Nguyên hợp tác với Luông Pha Băng về du lịch. Chè Thái Nguyên nổi tiếng!"
EN = "Province Thái Nguyên cooperation with Luông Pha Băng về tourism. Tea Thái Nguyên nổi tiếng!"
ZH = "省 Thái Nguyên 合作 与 Luông Pha Băng về 旅游. 茶 Thái Nguyên nổi tiếng!"
KO = "도 Thái Nguyên 협력 와 Luông Pha Băng về 관광. 차 Thái Nguyên nổi tiếng!"

VI_2 = "Năm 2025, chè của tỉnh Thái Nguyên và Việt Nam được xuất khẩu sang 30 nước."
EN_2 = "Year 2025, tea of province Thái Nguyên and Vietnam được xuất khẩu sang 30 nước."
ZH_2 = "年 2025, 茶 的 省 Thái Nguyên 和 越南 được xuất khẩu sang 30 nước."
KO_2 = "년 2025, 차 의 도 Thái Nguyên 및 베트남 được xuất khẩu sang 30 nước."

# (text, from, to) → exact expected output; derived by hand from LEXICONS and the
# rules in the demo_models docstring, then confirmed.
CASES: dict[str, tuple[str, str, str, str]] = {
    "vi-en": (VI, "vi", "en", EN),
    "en-zh": (EN, "en", "zh", ZH),
    "en-ko": (EN, "en", "ko", KO),
    "vi-zh pivot": (VI, "vi", "zh", ZH),
    "vi-ko pivot": (VI, "vi", "ko", KO),
    "vi-en 2": (VI_2, "vi", "en", EN_2),
    "vi-zh pivot 2": (VI_2, "vi", "zh", ZH_2),
    "vi-ko pivot 2": (VI_2, "vi", "ko", KO_2),
    # swaps only whole words: "Teams" and "steam" stay, "tea," and "tea-" swap
    "word boundaries": (
        "Teams drink tea, steam tea and tea-time with Andrew.",
        "en",
        "zh",
        "Teams drink 茶, steam 茶 和 茶-time 与 Andrew.",
    ),
    # outer spaces dropped, space runs collapsed, tab kept, "_" becomes a space,
    # a key glued to a tab is not after a space so "chè" stays
    "whitespace": ("  Chè   và\tchè_xanh  ", "vi", "en", "Tea and\tchè xanh"),
    # each line is a paragraph; empty lines survive
    "paragraphs": ("Chè.\nTỉnh!\n\n  Và? Với", "vi", "en", "Tea.\nProvince!\n\nVà? Với"),
}

# ~100 Vietnamese words, each tuple (Vietnamese, demo English).
_LONG_WORDS = [
    ("Năm", "Year"), ("nay,", "nay,"), ("chè", "tea"), ("của", "of"), ("tỉnh", "province"),
    ("Thái", "Thái"), ("Nguyên", "Nguyên"), ("và", "and"), ("du lịch", "tourism"),
    ("cộng", "cộng"), ("đồng", "đồng"), ("phát", "phát"), ("triển", "triển"), ("mạnh,", "mạnh,"),
]

RUNNER = r"""
import json, os, socket, sys
from pathlib import Path

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network disabled by test_demo_models")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

import argostranslate.package
import argostranslate.sbd
import argostranslate.settings
import argostranslate.translate

request = json.loads(sys.stdin.read())
for path in request["packages"]:
    argostranslate.package.install_from_path(Path(path))

result = {"translations": {}}
for name, (text, from_code, to_code) in request["cases"].items():
    result["translations"][name] = argostranslate.translate.translate(text, from_code, to_code)

vi_en = argostranslate.translate.get_translation_from_codes("vi", "en")
sentencizer = vi_en.underlying.sentencizer
pkg = vi_en.underlying.pkg
fresh = argostranslate.sbd.MiniSBDSentencizer(pkg)
result["sentencizer"] = {
    "class": type(sentencizer).__name__,
    "model": sentencizer.lang,
    "package_path": str(pkg.package_path),
    "split": fresh.split_sentences(request["split_text"]),
}
result["minisbd_cache"] = str(Path(argostranslate.settings.data_dir) / "minisbd")
result["package_dirs"] = [str(p.package_path) for p in argostranslate.package.get_installed_packages()]
result["network_attempts"] = attempts
print(json.dumps(result))
"""


def _argos_env(home: Path) -> dict[str, str]:
    """A clean environment: every folder argostranslate, minisbd or onnxruntime may touch is under home."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ARGOS_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        ARGOS_PACKAGES_DIR=str(home / "packages"),
        ORT_DISABLE_TELEMETRY="1",
    )
    return env


def run_argos(home: Path, packages: list[Path], cases: dict, split_text: str = VI) -> dict:
    """Install ``packages`` and translate ``cases`` ({name: (text, from, to)}) in a fresh process."""
    home.mkdir(parents=True, exist_ok=True)
    request = {"packages": [str(p) for p in packages], "cases": cases, "split_text": split_text}
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=_argos_env(home),
        cwd=home,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def _long_sentence(words: int) -> tuple[str, str]:
    """A Vietnamese sentence of ``words`` lexicon-rich words and its exact demo English."""
    chosen = [_LONG_WORDS[i % len(_LONG_WORDS)] for i in range(words)]
    return " ".join(vi for vi, _ in chosen) + ".", " ".join(en for _, en in chosen) + "."


def _piece_count(package: Path, text: str) -> int:
    import sentencepiece as spm

    with zipfile.ZipFile(package) as archive:
        name = next(n for n in archive.namelist() if n.endswith("/sentencepiece.model"))
        processor = spm.SentencePieceProcessor(model_proto=archive.read(name))
    return len(processor.encode(text))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[list[Path], None]:
    return build_demo_packages(tmp_path_factory.mktemp("demo-build")), None


@pytest.fixture(scope="module")
def argos_run(built, tmp_path_factory) -> tuple[dict, Path]:
    packages, _ = built
    home = tmp_path_factory.mktemp("argos-home")
    long_ok, _ = _long_sentence(100)
    long_cut, _ = _long_sentence(160)
    cases = {name: list(case[:3]) for name, case in CASES.items()}
    cases["long"] = [long_ok, "vi", "en"]
    cases["too long"] = [long_cut, "vi", "en"]
    return run_argos(home, packages, cases), home


def test_builds_three_small_packages(built):
    packages, _ = built
    assert [p.name for p in packages] == [f"translate-{f}_{t}-demo.argosmodel" for f, t in DEMO_PAIRS]
    for package in packages:
        assert 50_000 < package.stat().st_size < 400_000


def test_package_layout_and_metadata(built):
    packages, _ = built
    for (from_code, to_code), package in zip(DEMO_PAIRS, packages):
        with zipfile.ZipFile(package) as archive:
            names = archive.namelist()
            tops = {name.split("/")[0] for name in names}
            assert tops == {f"translate-{from_code}_{to_code}-demo"}
            top = tops.pop()
            for required in ("metadata.json", "sentencepiece.model", "model/model.bin", "model/config.json"):
                assert f"{top}/{required}" in names
            assert [n for n in names if n.startswith(f"{top}/minisbd/") and n.endswith(".onnx")]
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
            assert {d.date_time for d in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert metadata["from_code"] == from_code and metadata["to_code"] == to_code
        assert metadata["type"] == "translate"
        assert metadata["package_version"] == "0.0.1"
        assert metadata["foreigndesk_demo"] is True
        assert "DEMO" in metadata["name"] and "not a real translation" in metadata["name"]


@pytest.mark.parametrize("name", list(CASES))
def test_exact_demo_translations(argos_run, name):
    result, _ = argos_run
    assert result["translations"][name] == CASES[name][3]


def test_pivot_equals_the_two_hops(argos_run):
    translations = argos_run[0]["translations"]
    assert translations["vi-zh pivot"] == translations["en-zh"]
    assert translations["vi-ko pivot"] == translations["en-ko"]


def test_sentence_of_about_200_pieces_is_copied_whole(argos_run, built):
    long_ok, expected = _long_sentence(100)
    assert 200 <= _piece_count(built[0][0], long_ok) <= 256
    assert argos_run[0]["translations"]["long"] == expected


def test_sentence_over_256_pieces_is_cut_silently(argos_run, built):
    """Argos's default max_decoding_length (256) cuts long sentences; the desk must split them first."""
    long_cut, expected = _long_sentence(160)
    assert _piece_count(built[0][0], long_cut) > 256
    result = argos_run[0]["translations"]["too long"]
    assert expected.startswith(result) and len(result) < len(expected)


def test_sentences_are_split_by_the_bundled_onnx(argos_run):
    result, home = argos_run
    sbd = result["sentencizer"]
    assert sbd["class"] == "MiniSBDSentencizer"
    model = Path(sbd["model"])
    assert model.suffix == ".onnx" and model.parent == Path(sbd["package_path"]) / "minisbd"
    assert sbd["split"] == [
        "Tỉnh Thái Nguyên hợp tác với Luông Pha Băng về du lịch.",
        "Chè Thái Nguyên nổi tiếng!",
    ]
    # MiniSBD would have downloaded into <data>/argos-translate/minisbd: nothing is there,
    # and no .onnx exists anywhere under HOME except inside the installed packages.
    cache = Path(result["minisbd_cache"])
    assert not cache.exists() or not any(cache.iterdir())
    stray = [p for p in home.rglob("*.onnx") if (home / "packages") not in p.parents]
    assert stray == []


def test_nothing_touched_the_network(argos_run):
    assert argos_run[0]["network_attempts"] == []


def test_is_demo_package_dir(argos_run, tmp_path):
    result, _ = argos_run
    installed = [Path(p) for p in result["package_dirs"]]
    assert len(installed) == 3 and all(is_demo_package_dir(p) for p in installed)

    real = tmp_path / "real"
    real.mkdir()
    (real / "metadata.json").write_text(json.dumps({"from_code": "vi", "to_code": "en", "package_version": "1.9"}))
    stringly = tmp_path / "stringly"
    stringly.mkdir()
    (stringly / "metadata.json").write_text(json.dumps({"foreigndesk_demo": "true"}))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "metadata.json").write_text("{not json")
    for folder in (real, stringly, broken, tmp_path / "missing"):
        assert not is_demo_package_dir(folder)


def test_building_twice_is_identical(built, argos_run, tmp_path):
    first, _ = built
    second = build_demo_packages(tmp_path / "again")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    cases = {name: list(CASES[name][:3]) for name in ("vi-en", "vi-zh pivot", "vi-ko pivot", "whitespace")}
    again = run_argos(tmp_path / "home", second, cases)
    assert again["translations"] == {name: argos_run[0]["translations"][name] for name in cases}


def test_cli_builds_the_same_packages(built, tmp_path):
    out = tmp_path / "cli"
    completed = subprocess.run(
        [sys.executable, "-m", "foreigndesk.translate.demo_models", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PLUGINS)},
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    for package in built[0]:
        assert (out / package.name).read_bytes() == package.read_bytes()


def test_other_pairs_build_a_pure_copy_model(tmp_path):
    assert ("en", "fr") not in LEXICONS
    package = build_demo_package("en", "fr", tmp_path)
    with zipfile.ZipFile(package) as archive:
        metadata = json.loads(archive.read("translate-en_fr-demo/metadata.json"))
    assert (metadata["from_code"], metadata["to_code"], metadata["foreigndesk_demo"]) == ("en", "fr", True)
