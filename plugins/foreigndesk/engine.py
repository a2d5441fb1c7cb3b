"""The machine-translation engine: installed Argos packages, loaded once per process.

argostranslate reads ``ARGOS_PACKAGES_DIR`` when it is first imported, so this
module is only ever imported inside a task or a command, after the environment
is set. Only direct packages are used (vi→en, en→zh, en→ko): the desk pivots
itself, so the English draft is computed once and reused for zh and ko.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import argostranslate.package  # noqa: E402  (after the telemetry switch)
import argostranslate.translate  # noqa: E402

from foreigndesk.demo_models import is_demo_package_dir  # noqa: E402

class MissingModel(RuntimeError):
    """No installed package for a language pair; the message says how to install one."""


@dataclass(frozen=True)
class ModelInfo:
    """What produced a draft, shown to the reviewer and kept in the draft record."""

    from_code: str
    to_code: str
    name: str
    version: str
    demo: bool


class ArgosEngine:
    """Translate lists of texts with the installed package of each pair."""

    def __init__(self) -> None:
        self._translations: dict[tuple[str, str], object] = {}
        self._models: dict[tuple[str, str], ModelInfo] = {}

    def model(self, from_code: str, to_code: str) -> ModelInfo:
        pair = (from_code, to_code)
        if pair not in self._models:
            for pkg in argostranslate.package.get_installed_packages():
                if (pkg.from_code, pkg.to_code) == pair:
                    self._models[pair] = ModelInfo(
                        from_code=from_code,
                        to_code=to_code,
                        name=str(pkg.package_path.name),
                        version=str(pkg.package_version),
                        demo=is_demo_package_dir(pkg.package_path),
                    )
                    break
            else:
                raise MissingModel(
                    f"no Argos package installed for {from_code}→{to_code}: put a translate-{from_code}_{to_code} "
                    f".argosmodel file in models/ and run `foreigndesk models install models/`"
                )
        return self._models[pair]

    def _translation(self, from_code: str, to_code: str):
        pair = (from_code, to_code)
        if pair not in self._translations:
            self.model(from_code, to_code)
            self._translations[pair] = argostranslate.translate.get_translation_from_codes(from_code, to_code)
        return self._translations[pair]

    def translate(self, texts: list[str], from_code: str, to_code: str) -> list[str]:
        """One output per input text, in order; empty texts stay empty."""
        translation = self._translation(from_code, to_code)
        return [translation.translate(text) if text.strip() else text for text in texts]


_ENGINE: ArgosEngine | None = None


def shared_engine() -> ArgosEngine:
    """The process-wide engine, so a worker loads each model once."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = ArgosEngine()
    return _ENGINE
