"""Settings: nested groups, the flat names of earlier releases, and variants that are
validated and follow the embedder profile's tuned fields."""

from __future__ import annotations

import os
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from assistant import Settings
from assistant.config import FLAT_NAMES, env_name
from assistant.profiles import profiles

TUNED = sorted({(group, name) for profile in profiles().values()
                for group, fields in profile.thresholds.items() for name in fields})
PAIRS = [(a, b) for a in profiles() for b in profiles() if a != b]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [n for n in os.environ if n.upper().startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    yield


def _field(settings: Settings, path: str) -> Any:
    group, name = path.split(".")
    value = getattr(getattr(settings, group), name)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _other_value(path: str) -> str:
    """A valid value, as an environment variable, unlike the field's default."""
    group, name = path.split(".")
    model: type[BaseModel] = Settings.model_fields[group].annotation  # type: ignore[assignment]
    info = model.model_fields[name]
    default = info.get_default(call_default_factory=True)
    choices = typing.get_args(info.annotation)
    if isinstance(default, bool):
        return str(not default).lower()
    if isinstance(default, int | float):
        return str(default + 1 if isinstance(default, int) else default / 2 or 0.5)
    if isinstance(default, list):
        return "one,two"
    if choices and all(isinstance(c, str) for c in choices):
        return next(c for c in choices if c != default)
    if "path" in name:
        return "/tmp/elsewhere.gguf"
    return "http://127.0.0.1:1" if default is None else f"{default}-changed"


@pytest.mark.parametrize(("old", "path"), sorted(FLAT_NAMES.items()))
def test_a_flat_variable_of_earlier_releases_still_sets_its_field(
        old: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    value = _other_value(path)
    if path == "oidc.issuer":  # an issuer needs a client
        monkeypatch.setenv(env_name("oidc.client_id"), "app")
        monkeypatch.setenv(env_name("oidc.client_secret"), "secret")
    default = _field(Settings(), path)
    monkeypatch.setenv(env_name(path), value)
    grouped = _field(Settings(), path)
    monkeypatch.delenv(env_name(path))
    monkeypatch.setenv(f"ASSISTANT_{old.upper()}", value)
    assert _field(Settings(), path) == grouped != default
    # ...and as a keyword, as before the groups
    monkeypatch.delenv(f"ASSISTANT_{old.upper()}")
    assert _field(Settings(**{old: grouped}), path) == grouped
    assert _field(Settings().variant(**{old: grouped}), path) == grouped


def test_grouped_variables_and_the_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SEARCH__RETRIEVAL_K", "9")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL_K", "3")  # the grouped name wins
    monkeypatch.setenv("ASSISTANT_LLM", '{"openai_model": "m", "timeout": 5}')
    settings = Settings(search={"candidate_k": 70})
    assert (settings.search.retrieval_k, settings.search.candidate_k) == (9, 70)
    assert (settings.llm.openai_model, settings.llm.timeout) == ("m", 5.0)
    with pytest.raises(ValidationError):
        Settings(search={"retreival_k": 3})  # a misspelt field is an error, not ignored


@pytest.mark.parametrize("value", ["dense", "vectors"])
def test_fusion_dense_is_the_earlier_name_of_vectors(value: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(search={"fusion": value}).search.fusion == "vectors"
    monkeypatch.setenv("ASSISTANT_FUSION", value)
    assert Settings().search.fusion == "vectors"


def test_a_variant_is_validated() -> None:
    with pytest.raises(ValidationError):
        Settings().variant(port=-1)
    with pytest.raises(ValidationError):
        Settings().variant(embedder="no-such-profile")
    with pytest.raises(ValidationError):
        Settings().variant(search={"retrieval_k": 0})


@pytest.mark.parametrize(("start", "to"), PAIRS)
@pytest.mark.parametrize(("group", "name"), TUNED)
def test_a_variant_follows_the_new_profile_unless_set(start: str, to: str, group: str,
                                                      name: str) -> None:
    tuned = profiles()[to].thresholds[group][name]
    expected = tuned if isinstance(tuned, str) else pytest.approx(tuned)
    base = Settings(embedder=start)
    assert getattr(getattr(base.variant(embedder=to), group), name) == expected
    # through an unrelated variant first, and back
    there = base.variant(port=7999).variant(embedder=to).variant(search={"retrieval_k": 7})
    assert getattr(getattr(there, group), name) == expected
    assert getattr(getattr(there.variant(embedder=start), group), name) == getattr(
        getattr(base, group), name)
    # set explicitly to a value of no profile: kept whatever the profile (a value equal to
    # the profile's own cannot be told from the profile's, and follows the profile)
    explicit = "centering" if isinstance(tuned, str) else 0.123
    pinned = Settings(embedder=start, **{group: {name: explicit}}).variant(embedder=to)
    assert getattr(getattr(pinned, group), name) == explicit


@pytest.mark.parametrize(("start", "to"), PAIRS)
def test_a_variable_set_threshold_survives_a_variant(start: str, to: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MIN_EVIDENCE", "0.5")
    monkeypatch.setenv("ASSISTANT_EMBEDDER", start)
    other = Settings().variant(embedder=to)
    assert other.answer.min_evidence == 0.5
    assert other.briefing.min_relevance == pytest.approx(
        profiles()[to].thresholds["briefing"]["min_relevance"])


def test_model_copy_is_not_a_variant() -> None:
    # model_copy keeps the old profile's threshold, the mistake variant() exists to avoid.
    base = Settings()
    assert base.model_copy(update={"embedder": "embeddinggemma"}).answer.min_evidence == 0.84
    assert base.variant(embedder="embeddinggemma").answer.min_evidence == pytest.approx(0.402)


def test_a_variant_keeps_everything_else() -> None:
    base = Settings(port=7999, answer_backend="extractive", search={"retrieval_k": 9})
    other = base.variant(answer_backend="openai", search={"fusion": "rrf"})
    assert (other.port, other.answer_backend) == (7999, "openai")
    assert (other.search.retrieval_k, other.search.fusion) == (9, "rrf")
    assert base.answer_backend == "extractive"  # frozen: the original is unchanged
