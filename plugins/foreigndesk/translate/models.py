"""Installing translation models from files the operator provides — never from the Argos index.

The official index has no Vietnamese package (docs/argos-offline.md), and a government
desk downloads nothing at run time, so models arrive as ``.argosmodel`` files
from a SOURCE the operator names: a folder, an ``s3://bucket/prefix`` or an
``https://`` URL (a file, or a folder-like URL ending in ``/``). Every SOURCE
carries a ``SHA256SUMS`` manifest (``sha256sum *.argosmodel > SHA256SUMS``);
each package is checked against it before anything is installed, and one
mismatch refuses the whole install. Where a pair the desk needs has no model,
a tiny demo package is built locally so the desk still runs end to end;
everything it produces then carries the demo notice.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from foreigndesk.core.names import SOURCE_LANGUAGE

MANIFEST = "SHA256SUMS"
_MANIFEST_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](\S.*)$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class InstallError(RuntimeError):
    """A model SOURCE can't be installed; the message names the file and what to do."""


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
        raise InstallError(f"{path.name}: not an Argos package ({error}); expected a .argosmodel zip") from None
    try:
        return PackageFile(path, metadata["from_code"], metadata["to_code"], str(metadata.get("package_version", "")))
    except KeyError as missing:
        raise InstallError(f"{path.name}: metadata.json has no {missing}; not a translation package") from None


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


# --- the manifest --------------------------------------------------------------------------------


def parse_manifest(text: str, where: str) -> dict[str, str]:
    """``sha256sum`` output: ``<64 hex>  <file name>`` per line (``#`` comments allowed)."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _MANIFEST_LINE.match(line.strip())
        if not match:
            raise InstallError(f"{where} line {number}: expected '<sha256>  <file>', got {line.strip()[:80]!r}")
        name = match.group(2).strip()
        if "/" in name or name in (".", ".."):
            raise InstallError(f"{where} line {number}: {name!r} must be a plain file name beside {MANIFEST}")
        sums[name] = match.group(1).lower()
    if not any(name.endswith(".argosmodel") for name in sums):
        raise InstallError(f"{where} lists no .argosmodel file; create it with `sha256sum *.argosmodel > {MANIFEST}`")
    return sums


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- sources --------------------------------------------------------------------------------------


# Each _from_* returns (manifest sums, fetched files by name, packages present but unlisted, names to install).
_Fetched = tuple[dict[str, str], dict[str, Path], list[str], list[str]]


def _listed(sums: dict[str, str]) -> list[str]:
    return [name for name in sums if name.endswith(".argosmodel")]


def _from_folder(folder: Path) -> _Fetched:
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise InstallError(f"{folder}: no {MANIFEST}; create it with `cd {folder} && sha256sum *.argosmodel > {MANIFEST}`")
    sums = parse_manifest(manifest.read_text(encoding="utf-8"), str(manifest))
    present = {path.name: path for path in folder.glob("*.argosmodel")}
    return sums, present, sorted(set(present) - set(sums)), _listed(sums)


def _from_s3(source: str, scratch: Path, client: Any) -> _Fetched:
    from botocore.exceptions import BotoCoreError, ClientError

    parsed = urlparse(source)
    bucket, prefix = parsed.netloc, parsed.path.strip("/")
    prefix = f"{prefix}/" if prefix else ""
    try:
        keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for item in page.get("Contents", ())]
        if prefix + MANIFEST not in keys:
            raise InstallError(f"{source}: no {MANIFEST} object; upload one made with `sha256sum *.argosmodel > {MANIFEST}`")
        manifest = client.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read().decode("utf-8")
        sums = parse_manifest(manifest, f"{source.rstrip('/')}/{MANIFEST}")
        names = [key[len(prefix):] for key in keys if key.endswith(".argosmodel") and "/" not in key[len(prefix):]]
        present = {}
        for name in names:
            if name in sums:
                target = scratch / name
                client.download_file(bucket, prefix + name, str(target))
                present[name] = target
    except (BotoCoreError, ClientError) as error:
        raise InstallError(f"{source}: S3 error ({error}); check the bucket, prefix and credentials") from None
    return sums, present, sorted(set(names) - set(sums)), _listed(sums)


def _from_url(source: str, scratch: Path, session: Any) -> _Fetched:
    import requests

    parsed = urlparse(source)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.hostname in _LOOPBACK):
        raise InstallError(f"{source}: models are fetched over https only (plain http only from this machine)")
    base = source if source.endswith("/") else source.rsplit("/", 1)[0] + "/"
    single = None if source.endswith("/") else source.rsplit("/", 1)[1]
    try:
        response = session.get(urljoin(base, MANIFEST), timeout=60)
        if response.status_code != 200:
            raise InstallError(f"{urljoin(base, MANIFEST)}: HTTP {response.status_code}; publish a {MANIFEST} beside the models")
        sums = parse_manifest(response.text, urljoin(base, MANIFEST))
        wanted = [single] if single else _listed(sums)
        present = {}
        for name in wanted:
            if name not in sums:
                continue
            target = scratch / name
            with session.get(urljoin(base, name), stream=True, timeout=60) as download:
                if download.status_code != 200:
                    raise InstallError(f"{urljoin(base, name)}: HTTP {download.status_code}")
                with open(target, "wb") as handle:
                    for block in download.iter_content(1 << 20):
                        handle.write(block)
            present[name] = target
    except requests.RequestException as error:
        raise InstallError(f"{source}: download failed ({type(error).__name__}); check the URL and the network") from None
    return sums, present, [name for name in wanted if name not in sums], [name for name in wanted if name in sums]


def install_source(source: str, s3_client: Any = None, session: Any = None) -> list[PackageFile]:
    """Install the ``.argosmodel`` files of a SOURCE after checking all of them against its manifest.

    Nothing is installed unless every package is listed and matches: a mismatch, an
    unlisted package or a listed package that is missing refuses the whole SOURCE.
    """
    with tempfile.TemporaryDirectory(prefix="foreigndesk-models-") as scratch_dir:
        scratch = Path(scratch_dir)
        if source.startswith("s3://"):
            if s3_client is None:
                raise InstallError("an s3:// SOURCE needs an S3 client (the CLI builds one from the AWS settings)")
            sums, present, unlisted, wanted = _from_s3(source, scratch, s3_client)
        elif source.startswith(("https://", "http://")):
            if session is None:
                import requests

                session = requests.Session()
            sums, present, unlisted, wanted = _from_url(source, scratch, session)
        else:
            folder = Path(source)
            if not folder.is_dir():
                raise InstallError(f"{source}: no such folder; SOURCE is a folder, s3://bucket/prefix or an https URL")
            sums, present, unlisted, wanted = _from_folder(folder)
        if unlisted:
            raise InstallError(f"{source}: {', '.join(unlisted)} not listed in {MANIFEST}; add their sha256 or remove them")
        absent = [name for name in wanted if name not in present]
        if absent:
            raise InstallError(f"{source}: {MANIFEST} lists {', '.join(absent)} but SOURCE has no such file")
        for name in wanted:
            actual = sha256_of(present[name])
            if actual != sums[name]:
                raise InstallError(f"{source}: {name} has sha256 {actual}, {MANIFEST} says {sums[name]}; "
                                   "refusing to install anything from this SOURCE (re-download the file)")
        packages = [read_package_file(present[name]) for name in wanted]
        for package in packages:
            install_package_file(package)
        return [PackageFile(Path(name), p.from_code, p.to_code, p.version) for name, p in zip(wanted, packages)]


def install_folder(folder: Path) -> list[PackageFile]:
    """Install every ``*.argosmodel`` in ``folder``, checked against its ``SHA256SUMS``."""
    if not any(Path(folder).glob("*.argosmodel")):
        return []
    return install_source(str(folder))


def ensure_models(models_dir: Path, languages: tuple[str, ...]) -> dict[str, list[str]]:
    """Install the operator's models, then fill any missing needed pair with a demo package."""
    from foreigndesk.translate.demo_models import build_demo_package

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
