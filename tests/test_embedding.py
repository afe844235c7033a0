"""The NumPy MiniLM encoder: matches sentence-transformers, behaves as an embedding should."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import Encoder, EncoderUnavailable, encode_cached, load_encoder, read_safetensors

# First 8 dimensions of sentence-transformers 6.2.0 (torch 2.13.0 CPU) embeddings of these
# sentences with the same all-MiniLM-L6-v2 weights, normalize_embeddings=True, rounded to 4 places.
REFERENCE = {
    "How do I reset my password?": [0.0069, -0.063, -0.072, -0.0325, -0.0427, 0.0704, 0.0091, 0.0154],
    "Where can I download last month's invoice?": [-0.082, -0.0138, -0.0632, -0.0399, -0.0402, -0.0317, -0.1245, 0.033],
    "I want to cancel my subscription.": [-0.0207, -0.0075, 0.0016, -0.0365, -0.0025, -0.0168, 0.0221, -0.0735],
}


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    try:
        return load_encoder()
    except EncoderUnavailable as exc:  # pragma: no cover - the Makefile installs the model
        pytest.skip(str(exc))


def test_matches_sentence_transformers_reference(encoder: Encoder) -> None:
    vectors = encoder.encode(list(REFERENCE))
    expected = np.array(list(REFERENCE.values()), dtype=np.float32)
    np.testing.assert_allclose(vectors[:, :8], expected, atol=1.5e-4)


def test_shape_dtype_and_unit_norm(encoder: Encoder) -> None:
    vectors = encoder.encode(["hello", "", "a much longer sentence about invoices and billing " * 40])
    assert encoder.dim == 384
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_empty_input_gives_empty_matrix(encoder: Encoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def test_single_string_is_rejected(encoder: Encoder) -> None:
    with pytest.raises(TypeError):
        encoder.encode("not a list")  # type: ignore[arg-type]


def test_batching_and_order_do_not_change_vectors(encoder: Encoder) -> None:
    texts = ["short", "a somewhat longer sentence here", "mid length text", "x " * 200]
    together = encoder.encode(texts, batch_size=64)
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])
    reversed_order = encoder.encode(texts[::-1], batch_size=2)[::-1]
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    np.testing.assert_allclose(together, reversed_order, atol=1e-5)


@pytest.mark.parametrize(
    ("anchor", "paraphrase", "unrelated"),
    [
        ("How do I reset my password?", "I forgot my password and can't log in", "Where can I download my invoice?"),
        ("Cancel my subscription", "I want to stop my plan and end billing", "How do I change my profile photo?"),
        ("The app crashes when I open it", "the application keeps crashing on startup", "What are your opening hours?"),
    ],
)
def test_paraphrases_are_closer_than_unrelated(encoder: Encoder, anchor: str, paraphrase: str, unrelated: str) -> None:
    a, p, u = encoder.encode([anchor, paraphrase, unrelated])
    assert float(a @ p) > float(a @ u) + 0.1


def test_encode_cached_round_trip(encoder: Encoder, tmp_path: Path) -> None:
    texts = ["reset password", "download invoice"]
    first = encode_cached(encoder, texts, cache_dir=tmp_path)
    files = list(tmp_path.glob("emb-*.npy"))
    assert len(files) == 1
    second = encode_cached(encoder, texts, cache_dir=tmp_path)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, encoder.encode(texts), atol=1e-6)
    # A different list is a different file; a corrupt file is recomputed, not trusted.
    encode_cached(encoder, texts[::-1], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("emb-*.npy"))) == 2
    files[0].write_bytes(b"garbage")
    np.testing.assert_allclose(encode_cached(encoder, texts, cache_dir=tmp_path), first, atol=1e-6)


def test_encode_cached_without_dir(encoder: Encoder) -> None:
    assert encode_cached(encoder, ["hi"], cache_dir=None).shape == (1, 384)
    assert encode_cached(encoder, [], cache_dir=None).shape == (0, 384)


def test_missing_model_dir_raises_with_hint(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match="pip install"):
        load_encoder(model_dir=tmp_path)


def test_read_safetensors_parses_handwritten_file(tmp_path: Path) -> None:
    import json
    import struct

    data = np.arange(6, dtype="<f4").reshape(2, 3)
    header = json.dumps({"__metadata__": {}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data.tobytes())
    np.testing.assert_array_equal(read_safetensors(path)["w"], data)
