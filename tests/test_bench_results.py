"""A bench rewrites its own section of bench/results.md, and keeps what was written by hand
under the section's notes marker: the earlier runs' narrative was lost three times."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import _results


@pytest.mark.parametrize("with_notes", [True, False])
def test_a_rerun_replaces_the_figures_and_keeps_the_notes(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          with_notes: bool) -> None:
    monkeypatch.setattr(_results, "RESULTS", tmp_path / "results.md")
    _results.write_section("other", "Other figures.")
    _results.write_section("scale", "p50 40 ms.")
    text = _results.RESULTS.read_text(encoding="utf-8")
    notes = (f"{_results.NOTES}\nEarlier run: p50 50 ms (second step).\n\n"
             "_Measured 2026-12-01 10:00 UTC (second step)._\n")
    if with_notes:
        text = text.replace("p50 40 ms.\n\n", f"p50 40 ms.\n\n{notes}\n")
        _results.RESULTS.write_text(text, encoding="utf-8")
    _results.write_section("scale", "p50 30 ms.")
    got = _results.RESULTS.read_text(encoding="utf-8")
    assert "p50 40 ms" not in got and "p50 30 ms." in got and "Other figures." in got
    assert ("Earlier run: p50 50 ms (second step)." in got) == with_notes
    assert ("(second step)._" in got) == with_notes  # a stamp inside the notes stays
    section = got[got.index("<!-- BEGIN scale -->"):got.index("<!-- END scale -->")]
    assert section.count("_Measured ") == 1 + with_notes
    assert section.rstrip().endswith("._")  # the new stamp last
    assert section.index("p50 30 ms.") < section.index("_Measured ")
    _results.write_section("scale", "p50 20 ms.")  # and again
    assert _results.RESULTS.read_text(encoding="utf-8").count("Earlier run") == with_notes
