from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.errors import EmbedderMismatchError

REPORT = "001_233030e2ea93ce29.txt"


def test_incremental_ingest(make_settings: Callable[..., Settings], corpus_copy: Path) -> None:
    assistant = Assistant(make_settings(corpus_dir=corpus_copy))
    first = assistant.ingest()
    assert len(first.added) == 5 and first.chunks_embedded > 0 and not first.failed
    total = first.chunks_embedded

    again = assistant.ingest()
    assert again.chunks_embedded == 0 and len(again.unchanged) == 5
    assert again.summary().startswith("Nothing to embed")

    # Editing one sentence re-embeds that file's changed chunks only.
    path = corpus_copy / REPORT
    path.write_text(path.read_text(encoding="utf-8").replace("9.6 doctors", "9.7 doctors"),
                    encoding="utf-8")
    edited = assistant.ingest()
    assert edited.updated == [REPORT] and len(edited.unchanged) == 4
    record = next(r for r in assistant.sources() if r.source == REPORT)
    assert 1 <= edited.chunks_embedded < len(record.chunk_ids)
    assert edited.chunks_reused == len(record.chunk_ids) - edited.chunks_embedded

    # Deleting a file removes its chunks; the store holds exactly the listed chunks.
    (corpus_copy / "000_bbabe375f3672169.txt").unlink()
    removed = assistant.ingest()
    assert removed.removed == ["000_bbabe375f3672169.txt"]
    records = assistant.sources()
    assert len(records) == 4
    assert assistant.store.chunks.count() == sum(len(r.chunk_ids) for r in records)
    assert assistant.store.chunks.count() < total
    answer = assistant.ask("How many doctors per 10,000 people does Tra Vinh have?")
    assert "9.7" in answer.answer


def test_remove_and_reset(make_settings: Callable[..., Settings]) -> None:
    assistant = Assistant(make_settings())
    assistant.ingest()
    assert assistant.remove(REPORT) is True
    assert assistant.remove(REPORT) is False
    assert REPORT not in {r.source for r in assistant.sources()}
    assert all(h.source != REPORT for h in assistant.search("Tra Vinh doctors", 10))
    assistant.reset()
    assert assistant.sources() == []


def test_index_refuses_vectors_of_another_embedder(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    Assistant(make_settings()).ingest([Path(__file__).parent.parent / "corpus" / REPORT])
    # all-MiniLM-L6-v2 also gives 384 dimensions: only the recorded identity protects us.
    other = Assistant(make_settings(embedder="sentence-transformers"))
    extra = tmp_path / "extra.txt"
    extra.write_text("A new report about vaccination in Can Tho.", encoding="utf-8")
    with pytest.raises(EmbedderMismatchError, match="rebuild"):
        other.ingest([extra])
    with pytest.raises(EmbedderMismatchError):
        other.ask("How many doctors?")


def test_index_is_locked_to_the_profile_and_size_that_built_it(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    from assistant.index.embedding import default_sentence_transformer_path

    report = tmp_path / "report.txt"
    report.write_text("Tra Vinh has 9.6 doctors per 10,000 people in 2023.", encoding="utf-8")
    minilm = str(default_sentence_transformer_path())
    built = Assistant(make_settings(embedder="sentence-transformers", embedder_model=minilm))
    built.ingest([report])
    assert built.store.state()["profile"] == "sentence-transformers"
    assert built.store.state()["dimension"] == 384
    # Same weights, another profile and size (the embeddinggemma profile's mechanism on MiniLM).
    switched = Assistant(make_settings(embedder="embeddinggemma", embedder_model=minilm,
                                       embedder_dim=128))
    with pytest.raises(EmbedderMismatchError) as error:
        switched.ingest([report])
    message = str(error.value)
    assert "profile sentence-transformers, 384 dimensions" in message
    assert "'google/embeddinggemma-300m@128'" in message
    assert "assistant ingest --rebuild" in message
    with pytest.raises(EmbedderMismatchError, match="--rebuild"):
        switched.ask("How many doctors are there in Tra Vinh?")
    switched.reset()  # what `assistant ingest --rebuild` does first
    assert not switched.ingest([report]).failed
    assert switched.store.state()["dimension"] == 128
    assert switched.store.state()["profile"] == "embeddinggemma"
    assert switched.search("doctors in Tra Vinh", 1)[0].source == "report.txt"
