from __future__ import annotations

import subprocess
import sys

import pytest

import adlens.protocols


def test_importing_the_protocols_loads_no_stage() -> None:
    """The seams' Protocols sit below every stage: importing them pulls in no store, pipeline or model runtime."""
    code = ("import sys, adlens.protocols; "
            "print(sorted(m for m in sys.modules if m.startswith(('adlens.', 'sqlalchemy', 'cv2', 'onnxruntime'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['adlens.faces', 'adlens.protocols']"


@pytest.mark.parametrize("name", adlens.protocols.__all__)
def test_every_exported_name_is_a_protocol(name: str) -> None:
    assert getattr(getattr(adlens.protocols, name), "_is_protocol", False)


def test_a_person_analyzer_is_one_that_can_add_stable_attributes_later() -> None:
    from adlens.api.service import SharedAnalyzer
    from adlens.pipeline import Analyzer
    from adlens.protocols import PersonAnalyzer

    class FramesOnly:
        def analyze(self, source, timer=None):
            raise NotImplementedError

        def analyze_array(self, image, timer=None):
            raise NotImplementedError

    analyzer = Analyzer(attributes=[])  # not loaded: nothing is run
    assert isinstance(analyzer, PersonAnalyzer) and isinstance(SharedAnalyzer(analyzer), PersonAnalyzer)
    assert not isinstance(FramesOnly(), PersonAnalyzer) and not isinstance(SharedAnalyzer(FramesOnly()), PersonAnalyzer)
