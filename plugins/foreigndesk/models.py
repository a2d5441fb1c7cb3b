"""Installing translation models from files the operator provides — never from the Argos index.

The official index has no Vietnamese package (DESIGN.md), and a government
desk downloads nothing at run time, so models arrive as ``.argosmodel`` files
in a folder. Where a pair the desk needs has no model, a tiny demo package is
built locally so the desk still runs end to end; everything it produces then
carries the demo notice.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from foreigndesk.settings import SOURCE_LANGUAGE


def needed_pairs(languages: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """vi→en always (it is the pivot), then en→X for every other target language."""
    pairs = [(SOURCE_LANGUAGE, "en")]
    pairs += [("en", lang) for lang in languages if lang != "en"]
    return pairs


@dataclass(frozen=True)
class PackageFile:
    path: Path
    from_code: str
    to_code: str
    version: str


def read_package_file(path: Path) -> PackageFile:
    """Read the pair from an .argosmodel's metadata.json without installing it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if name.endswith("/metadata.json") and name.count("/") == 1]
            if not names:
                raise ValueError("no <folder>/metadata.json inside")
            metadata = json.loads(archive.read(names[0]))
    except (zipfile.BadZipFile, ValueError, KeyError) as error:
        raise ValueError(f"{path}: not an Argos package ({error}); expected a .argosmodel zip") from None
    return PackageFile(path, metadata["from_code"], metadata["to_code"], str(metadata.get("package_version", "")))


def installed_pairs() -> dict[tuple[str, str], Path]:
    import argostranslate.package

    return {(pkg.from_code, pkg.to_code): pkg.package_path for pkg in argostranslate.package.get_installed_packages()}


def install_package_file(package: PackageFile) -> None:
    """Install one package, replacing whatever was installed for the same pair."""
    import argostranslate.package

    for pkg in argostranslate.package.get_installed_packages():
        if (pkg.from_code, pkg.to_code) == (package.from_code, package.to_code):
            argostranslate.package.uninstall(pkg)
    argostranslate.package.install_from_path(package.path)


def install_folder(folder: Path) -> list[PackageFile]:
    """Install every ``*.argosmodel`` in ``folder``."""
    packages = [read_package_file(path) for path in sorted(folder.glob("*.argosmodel"))]
    for package in packages:
        install_package_file(package)
    return packages


def ensure_models(models_dir: Path, languages: tuple[str, ...]) -> dict[str, list[str]]:
    """Install the operator's models, then fill any missing needed pair with a demo package."""
    from foreigndesk.demo_models import build_demo_package

    installed = [f"{p.from_code}-{p.to_code}" for p in install_folder(models_dir)] if models_dir.is_dir() else []
    present = installed_pairs()
    demo: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for from_code, to_code in needed_pairs(languages):
            if (from_code, to_code) not in present:
                path = build_demo_package(from_code, to_code, Path(scratch))
                install_package_file(read_package_file(path))
                demo.append(f"{from_code}-{to_code}")
    return {"installed": installed, "demo": demo}

