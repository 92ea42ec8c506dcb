"""Settings variants: validated, and following the embedder profile's tuned thresholds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant import Settings


def test_a_variant_is_validated() -> None:
    with pytest.raises(ValidationError):
        Settings().variant(port=-1)
    with pytest.raises(ValidationError):
        Settings().variant(embedder="no-such-profile")


@pytest.mark.parametrize(("explicit", "expected"), [
    (None, 0.402),   # still the e5 profile's value: follows the new profile's
    (0.7, 0.7),      # set by the user: kept
])
def test_a_variant_follows_the_new_profile_unless_set(explicit: float | None,
                                                      expected: float) -> None:
    base = Settings() if explicit is None else Settings(min_evidence=explicit)
    assert base.min_evidence == (0.84 if explicit is None else explicit)
    other = base.variant(embedder="embeddinggemma")
    assert other.embedder == "embeddinggemma"
    assert other.min_evidence == pytest.approx(expected)
    # model_copy keeps the old profile's threshold, the mistake variant() exists to avoid.
    if explicit is None:
        assert base.model_copy(update={"embedder": "embeddinggemma"}).min_evidence == 0.84


def test_a_variant_keeps_everything_else() -> None:
    base = Settings(port=7999, answer_backend="extractive")
    other = base.variant(answer_backend="openai")
    assert (other.port, other.answer_backend) == (7999, "openai")
    assert base.answer_backend == "extractive"  # frozen: the original is unchanged
