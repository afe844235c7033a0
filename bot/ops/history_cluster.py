"""Grouping past messages without labels: spherical k-means on the real sentence encoder, in NumPy.

Vectors are unit length (``knowledge.embedding.Encoder.encode``), so similarity is a dot product.
Seeding is k-means++ with a fixed seed, so the same history gives the same groups every run.
Groups are named after the words that set them apart from the rest of the history.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

_WORD = re.compile(r"[a-z][a-z0-9]{2,}")
_STOP = frozenset(
    "the and for you your our are was were have has had can could would should will with this that there what when where "
    "how why who not but all any from into out about just get got did does dont its they them their been being "
    "please thanks thank hello hi hey need want one some also now still been since than then very much like know".split()
)


def choose_k(n: int) -> int:
    """A default number of groups: about sqrt(n / 2), between 2 and 12 (1 for tiny histories)."""
    if n < 4:
        return 1
    return int(min(12, max(2, round((n / 2) ** 0.5))))


def _seed_centres(vectors: np.ndarray, *, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++: each next centre drawn in proportion to its cosine distance from the nearest chosen."""
    centres = [vectors[rng.integers(len(vectors))]]
    for _ in range(1, k):
        distance = np.clip(1.0 - np.max(vectors @ np.stack(centres).T, axis=1), 0.0, None)
        total = float(distance.sum())
        index = int(rng.choice(len(vectors), p=distance / total)) if total > 0 else int(rng.integers(len(vectors)))
        centres.append(vectors[index])
    return np.stack(centres)


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def kmeans(vectors: np.ndarray, *, k: int, seed: int = 0, iterations: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """(labels, unit centres) of spherical k-means; empty groups keep their previous centre."""
    vectors = _normalise(np.asarray(vectors, dtype=np.float32))
    k = max(1, min(k, len(vectors)))
    centres = _seed_centres(vectors, k=k, rng=np.random.default_rng(seed))
    labels = np.zeros(len(vectors), dtype=int)
    for _ in range(iterations):
        labels = np.argmax(vectors @ centres.T, axis=1)
        sums = np.stack([vectors[labels == j].sum(axis=0) if np.any(labels == j) else centres[j] for j in range(k)])
        moved = _normalise(sums)
        if np.allclose(moved, centres, atol=1e-6):
            break
        centres = moved
    return labels, centres


def best_kmeans(vectors: np.ndarray, *, k: int, seed: int = 0, restarts: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The tightest of several seeded runs (highest total similarity to the centres)."""
    vectors = _normalise(np.asarray(vectors, dtype=np.float32))
    runs = [kmeans(vectors, k=k, seed=seed + r) for r in range(restarts)]
    return max(runs, key=lambda run: float(np.sum(vectors * run[1][run[0]])))


def central_order(vectors: np.ndarray, *, members: np.ndarray, centre: np.ndarray) -> list[int]:
    """The members' indices, most typical (closest to the centre) first."""
    scores = np.asarray(vectors)[members] @ centre
    return [int(members[i]) for i in np.argsort(-scores, kind="stable")]


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def group_names(texts: list[str], labels: np.ndarray, *, size: int = 3) -> dict[int, str]:
    """A readable, unique name per group from its most over-represented words."""
    overall = Counter(w for t in texts for w in set(words(t)))
    names: dict[int, str] = {}
    for label in sorted(set(int(x) for x in labels)):
        members = [texts[i] for i in np.flatnonzero(labels == label)]
        inside = Counter(w for t in members for w in set(words(t)))
        ranked = sorted(inside, key=lambda w: (-(inside[w] / len(members)) * (inside[w] / overall[w]), w))
        name = "_".join(ranked[:size]) or f"group_{label + 1}"
        names[label] = name if name not in names.values() else f"{name}_{label + 1}"
    return names


def cluster_texts(*, texts: list[str], encoder: Any, k: int | None = None, seed: int = 0) -> tuple[dict[str, list[int]], np.ndarray]:
    """Named groups of message indices (most typical first) and the vectors, from the encoder."""
    vectors = _normalise(np.asarray(encoder.encode(texts), dtype=np.float32))
    labels, centres = best_kmeans(vectors, k=k or choose_k(len(texts)), seed=seed)
    names = group_names(texts, labels)
    groups = {names[j]: central_order(vectors, members=np.flatnonzero(labels == j), centre=centres[j]) for j in sorted(names)}
    return groups, vectors
