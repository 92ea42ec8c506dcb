"""The package as a user installs it (a wheel, not this checkout): prompts and data ship
inside it, and it works from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS, ROOT, clean_env

pytestmark = pytest.mark.slow


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, check=True,
                          **kwargs)  # type: ignore[call-overload]


def test_installed_wheel_ingests_and_answers_from_another_folder(tmp_path: Path) -> None:
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         str(ROOT), "-w", str(tmp_path / "wheels"), cwd=tmp_path)
    wheel = next((tmp_path / "wheels").glob("health_assistant-*.whl"))
    site = tmp_path / "site"
    _run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
         "--target", str(site), str(wheel))
    work = tmp_path / "work"
    shutil.copytree(CORPUS, work / "corpus")
    # The installed copy comes first on the path; the dependencies come from this venv.
    env = {**clean_env(work / "index"), "PYTHONPATH": str(site)}
    env.pop("ASSISTANT_INDEX_DIR")  # defaults: corpus/ and index/ in the current folder

    where = _run(sys.executable, "-c", "import assistant; print(assistant.__file__)",
                 cwd=work, env=env).stdout
    assert where.startswith(str(site)), where
    assert (site / "assistant" / "data" / "prompts" / "extractive.yaml").is_file()

    ingested = _run(sys.executable, "-m", "assistant", "ingest", cwd=work, env=env).stdout
    assert "5 added" in ingested and (work / "index").is_dir()
    answer = _run(sys.executable, "-m", "assistant", "ask",
                  "How many hospital beds does Lang Son province have in total?",
                  cwd=work, env=env).stdout
    assert "2862" in answer and "[1]" in answer
