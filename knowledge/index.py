"""The persisted knowledge index: passages, their embeddings, and an incremental ingest.

An index directory (default ``.baton/index/``) holds:

* ``manifest.json``: format version, the encoder's model id and width, every source file's
  sha256, mtime, size and doc_ids, the answerability calibration (see
  :func:`knowledge.search.calibrate`), any operator threshold override, and the name of the
  ``gen-<random>/`` subfolder holding the data below;
* ``gen-*/documents.json``: every document's id, title, url, path and passages;
* ``gen-*/passage_vectors.npy`` and ``gen-*/title_vectors.npy``: float32 unit embeddings,
  one row per passage (of its title + heading + body) and per document title.

:func:`ingest` compares the source folder (plus any extra folders, such as mirrored docs
websites) with the manifest by sha256 and re-embeds only the
files that are new or changed; vectors of unchanged files are reused and passages of deleted
files dropped.  That keeps re-indexing a large help centre after a one-line fix to a few
hundred milliseconds instead of minutes.  Each save writes a new generation folder and then
swaps the manifest atomically, so a crash or a concurrent reader never sees a half-written index.

The BM25 index is rebuilt from the passages on load: it takes milliseconds and keeps the
on-disk format small and obviously in sync.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.bm25 import BM25Index
from knowledge.chunking import Passage, chunk_document
from knowledge.loaders import Document, LoadProblem, load_file, source_files
from knowledge.search import calibrate

__all__ = [
    "DEFAULT_INDEX_DIR",
    "DocumentInfo",
    "Encoder",
    "IndexUnavailable",
    "IngestReport",
    "KnowledgeIndex",
    "encoder_id",
    "ingest",
]

DEFAULT_INDEX_DIR = Path(".baton/index")
FORMAT_VERSION = 1
ENCODE_BATCH = 64
_MANIFEST, _DOCS, _PVEC, _TVEC = "manifest.json", "documents.json", "passage_vectors.npy", "title_vectors.npy"


class Encoder(Protocol):
    """What the index needs from an encoder (see :mod:`knowledge.embedding`)."""

    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray: ...


class IndexUnavailable(RuntimeError):
    """The index on disk is missing, corrupt, or built with a different encoder."""


def encoder_id(encoder: Encoder) -> str:
    """A stable name of the encoder, recorded so vectors from another model are never mixed in."""
    return str(getattr(encoder, "model_id", type(encoder).__name__))


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A document's metadata as stored in the index (its text lives in its passages)."""

    doc_id: str
    title: str
    url: str | None
    path: str


@dataclass(slots=True)
class IngestReport:
    """What an ingest did, by source file (relative POSIX paths), plus load problems."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0

    def summary(self) -> str:
        """One line for a CLI: counts of each kind."""
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.problems)} problem(s); "
            f"{self.passages} passages ({self.embedded} texts embedded)"
        )


@dataclass(slots=True)
class _DocEntry:
    """One document with its passages and vectors, as carried between ingests."""

    info: DocumentInfo
    passages: list[Passage]
    passage_vectors: np.ndarray
    title_vector: np.ndarray


class KnowledgeIndex:
    """Passages, embeddings, a BM25 index and a calibrated answerability threshold.

    Build with :meth:`build_in_memory` (evaluation, tests) or :func:`ingest` (a folder, on
    disk); open a saved one with :meth:`load`.  Search it with :func:`knowledge.search.search`.
    Passages are stored grouped by document, so ``doc_starts[i]:doc_starts[i + 1]`` are the
    passages of ``documents[i]``.
    """

    def __init__(
        self,
        *,
        documents: list[DocumentInfo],
        passages: list[Passage],
        passage_vectors: np.ndarray,
        title_vectors: np.ndarray,
        encoder: Encoder,
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.documents = documents
        self.passages = passages
        self.passage_vectors = np.ascontiguousarray(passage_vectors, dtype=np.float32)
        self.title_vectors = np.ascontiguousarray(title_vectors, dtype=np.float32)
        self.encoder = encoder
        self.manifest: dict[str, Any] = manifest or {}
        self.doc_index = {d.doc_id: i for i, d in enumerate(documents)}
        self.passage_doc = np.array([self.doc_index[p.doc_id] for p in passages], dtype=np.int64)
        self.doc_starts = _group_starts(self.passage_doc, n_docs=len(documents))
        self.bm25 = BM25Index.build([p.index_text for p in passages])
        _check_shapes(self)

    # ------------------------------------------------------------------ properties

    @property
    def calibration(self) -> dict[str, Any]:
        """The answerability calibration stored in the manifest (empty before calibration)."""
        return self.manifest.get("calibration", {})

    @property
    def answer_threshold(self) -> float:
        """Confidence (0..1) at or above which a query counts as answerable.

        0.5 is the calibrated bar by construction; an operator override given at build or
        ingest time (``answer_threshold=``) is stored in the manifest and wins.
        """
        override = self.manifest.get("answer_threshold")
        return 0.5 if override is None else float(override)

    def document(self, doc_id: str) -> DocumentInfo:
        """Metadata of one document by id."""
        return self.documents[self.doc_index[doc_id]]

    def __len__(self) -> int:
        return len(self.passages)

    # ------------------------------------------------------------------ building

    @classmethod
    def build_in_memory(
        cls,
        documents: Iterable[Document],
        encoder: Encoder,
        *,
        answer_threshold: float | None = None,
        calibration_target: float | None = None,
        progress: bool = False,
    ) -> "KnowledgeIndex":
        """Chunk, embed and calibrate ``documents`` without touching the disk (evaluation suites)."""
        entries = _embed_documents(list(documents), encoder=encoder, progress=progress)
        return _assemble(entries, encoder=encoder, manifest={}, answer_threshold=answer_threshold,
                         calibration_target=calibration_target)

    # ------------------------------------------------------------------ persistence

    @classmethod
    def load(cls, index_dir: Path = DEFAULT_INDEX_DIR, *, encoder: Encoder) -> "KnowledgeIndex":
        """Open a saved index; raises :class:`IndexUnavailable` when it is missing, corrupt or
        was built with another encoder (re-run ingest then)."""
        folder = Path(index_dir)
        try:
            manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
            data = folder / str(manifest.get("generation", ""))
            stored = json.loads((data / _DOCS).read_text(encoding="utf-8"))
            pvec = np.load(data / _PVEC, allow_pickle=False)
            tvec = np.load(data / _TVEC, allow_pickle=False)
        except FileNotFoundError as exc:
            raise IndexUnavailable(f"no knowledge index in {folder} (run ingest first)") from exc
        except (OSError, ValueError) as exc:
            raise IndexUnavailable(f"knowledge index in {folder} is unreadable: {exc}") from exc
        _check_manifest(manifest, encoder=encoder, folder=folder)
        documents, passages = _parse_documents(stored)
        try:
            return cls(documents=documents, passages=passages, passage_vectors=pvec,
                       title_vectors=tvec, encoder=encoder, manifest=manifest)
        except (ValueError, KeyError) as exc:
            raise IndexUnavailable(f"knowledge index in {folder} is inconsistent: {exc}") from exc

    def save(self, index_dir: Path = DEFAULT_INDEX_DIR) -> None:
        """Write the index so that readers only ever see a complete one.

        Data files go into a new ``gen-<random>`` subfolder; then ``manifest.json``, which
        names that folder, is replaced atomically; then older generations are deleted.
        """
        folder = Path(index_dir)
        folder.mkdir(parents=True, exist_ok=True)
        generation = f"gen-{secrets.token_hex(6)}"
        data = folder / generation
        data.mkdir()
        _write_npy(data / _PVEC, self.passage_vectors)
        _write_npy(data / _TVEC, self.title_vectors)
        _write_json(data / _DOCS, _documents_json(self))
        manifest = dict(self.manifest)
        manifest.update(version=FORMAT_VERSION, encoder=encoder_id(self.encoder), dim=int(self.encoder.dim),
                        generation=generation, documents=len(self.documents), passage_count=len(self.passages))
        _write_json(folder / _MANIFEST, manifest)
        self.manifest = manifest
        for old in folder.glob("gen-*"):
            if old.name != generation and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def _entries(self) -> dict[str, _DocEntry]:
        """Every document with its passages and vectors, by doc_id (for incremental ingest)."""
        out = {}
        for i, info in enumerate(self.documents):
            lo, hi = self.doc_starts[i], self.doc_starts[i + 1]
            out[info.doc_id] = _DocEntry(info, self.passages[lo:hi], self.passage_vectors[lo:hi], self.title_vectors[i])
        return out


# --------------------------------------------------------------------------- ingest


def ingest(
    *,
    source_dir: Path | None,
    index_dir: Path = DEFAULT_INDEX_DIR,
    encoder: Encoder,
    progress: bool = False,
    answer_threshold: float | None = None,
    calibration_target: float | None = None,
    extra_sources: Mapping[str, Path] | None = None,
) -> IngestReport:
    """Bring the index in ``index_dir`` up to date with ``source_dir``; return what changed.

    Files are compared by sha256 with the manifest: new and changed files are loaded,
    chunked and embedded; unchanged files keep their stored passages and vectors; files no
    longer present are dropped.  A file that fails to load is reported in ``problems`` and
    left out (and retried on the next ingest).  A previous index built with another encoder
    is ignored and everything is re-embedded.  The answerability threshold is recalibrated
    on every ingest, since it depends on the whole knowledge base.

    ``extra_sources`` maps a path prefix to another folder whose files join the same index
    under that prefix (``{"sites": home / "sites"}``: mirrored docs websites, see
    :mod:`knowledge.sites`); a missing extra folder counts as empty.  ``source_dir=None``
    indexes the extra sources alone.
    """
    folder = Path(index_dir)
    roots = _source_roots(source_dir=source_dir, extra_sources=extra_sources)
    old = _load_previous(folder, encoder=encoder)
    old_files: dict[str, dict] = old.manifest.get("files", {}) if old else {}
    old_entries = old._entries() if old else {}
    report = IngestReport()
    files_meta: dict[str, dict] = {}
    keep: dict[str, list[_DocEntry]] = {}
    fresh: list[tuple[str, list[Document]]] = []
    for path, root, prefix, rel in _source_paths(roots):
        meta = _file_meta(path)
        previous = old_files.get(rel)
        if previous and previous.get("sha256") == meta["sha256"] and all(d in old_entries for d in previous["doc_ids"]):
            keep[rel] = [old_entries[d] for d in previous["doc_ids"]]
            files_meta[rel] = {**meta, "doc_ids": previous["doc_ids"]}
            report.unchanged.append(rel)
            continue
        docs, problems = load_file(path, root=root, prefix=prefix)
        report.problems.extend(problems)
        if not docs:
            if previous:
                report.removed.append(rel)
            continue
        (report.updated if previous else report.added).append(rel)
        files_meta[rel] = {**meta, "doc_ids": [d.doc_id for d in docs]}
        fresh.append((rel, docs))
    report.removed.extend(sorted(set(old_files) - set(files_meta) - set(report.removed)))
    new_docs = [d for _, docs in fresh for d in docs]
    embedded = {e.info.doc_id: e for e in _embed_documents(new_docs, encoder=encoder, progress=progress)}
    report.embedded = sum(len(e.passages) + 1 for e in embedded.values())
    for rel, docs in fresh:
        keep[rel] = [embedded[d.doc_id] for d in docs]
    entries = _ordered_entries(keep, files_meta=files_meta, report=report)
    manifest = {"files": files_meta}
    index = _assemble(entries, encoder=encoder, manifest=manifest, answer_threshold=answer_threshold,
                      calibration_target=calibration_target)
    index.save(folder)
    report.passages = len(index.passages)
    return report


def _source_roots(*, source_dir: Path | None, extra_sources: Mapping[str, Path] | None) -> list[tuple[str, Path]]:
    """(prefix, folder) pairs to index: the knowledge folder (no prefix), then each extra one."""
    roots: list[tuple[str, Path]] = []
    if source_dir is not None:
        source = Path(source_dir)
        if not source.is_dir():
            raise FileNotFoundError(f"knowledge folder not found: {source}")
        roots.append(("", source))
    for prefix, extra in sorted((extra_sources or {}).items()):
        if Path(extra).is_dir():
            roots.append((prefix.strip("/"), Path(extra)))
    return roots


def _source_paths(roots: list[tuple[str, Path]]) -> Iterable[tuple[Path, Path, str, str]]:
    """Every supported file of every root as (path, root, prefix, prefixed relative path)."""
    for prefix, root in roots:
        for path in source_files(source_dir=root):
            rel = path.relative_to(root).as_posix()
            yield path, root, prefix, f"{prefix}/{rel}" if prefix else rel


def _load_previous(folder: Path, *, encoder: Encoder) -> KnowledgeIndex | None:
    """The existing index if it can be reused, else None (missing, corrupt, other encoder)."""
    if not (folder / _MANIFEST).exists():
        return None
    try:
        return KnowledgeIndex.load(folder, encoder=encoder)
    except IndexUnavailable:
        return None


def _ordered_entries(keep: dict[str, list[_DocEntry]], *, files_meta: dict[str, dict], report: IngestReport) -> list[_DocEntry]:
    """Entries in source-path order; a doc_id already taken by an earlier file is skipped.

    The clash is reported, and a file left with no documents is not recorded in the
    manifest, so the clash is reported again on every ingest until someone renames a file.
    """
    seen: set[str] = set()
    entries = []
    for rel in sorted(keep):
        kept_ids = []
        for entry in keep[rel]:
            if entry.info.doc_id in seen:
                report.problems.append(LoadProblem(path=rel, reason=f"duplicate doc_id {entry.info.doc_id!r} (skipped)"))
                continue
            seen.add(entry.info.doc_id)
            kept_ids.append(entry.info.doc_id)
            entries.append(entry)
        files_meta[rel]["doc_ids"] = kept_ids
        if keep[rel] and not kept_ids:
            del files_meta[rel]
            for bucket in (report.added, report.updated, report.unchanged):
                if rel in bucket:
                    bucket.remove(rel)
    return entries


def _file_meta(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    stat = path.stat()
    return {"sha256": digest.hexdigest(), "mtime": stat.st_mtime, "size": stat.st_size}


# --------------------------------------------------------------------------- embedding


def _embed_documents(documents: list[Document], *, encoder: Encoder, progress: bool) -> list[_DocEntry]:
    """Chunk documents and embed every passage plus every title, in batches."""
    chunks = [chunk_document(doc) for doc in documents]
    texts = [p.index_text for passages in chunks for p in passages] + [doc.title for doc in documents]
    vectors = _encode(texts, encoder=encoder, progress=progress)
    n_passages = len(texts) - len(documents)
    pvec, tvec = vectors[:n_passages], vectors[n_passages:]
    entries, offset = [], 0
    for i, (doc, passages) in enumerate(zip(documents, chunks)):
        info = DocumentInfo(doc_id=doc.doc_id, title=doc.title, url=doc.url, path=doc.path)
        entries.append(_DocEntry(info, passages, pvec[offset : offset + len(passages)], tvec[i]))
        offset += len(passages)
    return entries


def _encode(texts: list[str], *, encoder: Encoder, progress: bool) -> np.ndarray:
    """Encode in batches, with a tqdm bar when asked (ingesting a help centre takes a while)."""
    dim = int(encoder.dim)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    starts = range(0, len(texts), ENCODE_BATCH)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(texts), desc="embedding", unit="text")
    parts = []
    for start in starts:
        batch = texts[start : start + ENCODE_BATCH]
        parts.append(np.asarray(encoder.encode(batch, batch_size=ENCODE_BATCH), dtype=np.float32))
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    return np.concatenate(parts).reshape(len(texts), dim)


def _assemble(
    entries: list[_DocEntry],
    *,
    encoder: Encoder,
    manifest: dict[str, Any],
    answer_threshold: float | None,
    calibration_target: float | None,
) -> KnowledgeIndex:
    """Build a :class:`KnowledgeIndex` from entries and calibrate its answerability bar."""
    dim = int(encoder.dim)
    passages = [p for e in entries for p in e.passages]
    pvec = np.concatenate([e.passage_vectors for e in entries]) if entries else np.zeros((0, dim), np.float32)
    tvec = np.stack([e.title_vector for e in entries]) if entries else np.zeros((0, dim), np.float32)
    manifest = dict(manifest)
    if answer_threshold is not None:
        if not 0.0 <= answer_threshold <= 1.0:
            raise ValueError("answer_threshold must be between 0 and 1")
        manifest["answer_threshold"] = float(answer_threshold)
    index = KnowledgeIndex(documents=[e.info for e in entries], passages=passages, passage_vectors=pvec,
                           title_vectors=tvec, encoder=encoder, manifest=manifest)
    kwargs = {} if calibration_target is None else {"target": calibration_target}
    index.manifest["calibration"] = calibrate(index, **kwargs)
    return index


# --------------------------------------------------------------------------- helpers


def _group_starts(passage_doc: np.ndarray, *, n_docs: int) -> np.ndarray:
    """Offsets of each document's passage run; passages must be grouped by document."""
    if len(passage_doc) and np.any(np.diff(passage_doc) < 0):
        raise ValueError("passages are not grouped by document")
    counts = np.bincount(passage_doc, minlength=n_docs) if len(passage_doc) else np.zeros(n_docs, np.int64)
    if n_docs and counts.min() == 0:
        raise ValueError("a document has no passages")
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _check_shapes(index: KnowledgeIndex) -> None:
    dim = int(index.encoder.dim)
    if index.passage_vectors.shape != (len(index.passages), dim):
        raise ValueError(f"passage vectors {index.passage_vectors.shape} do not match {len(index.passages)} passages x {dim}")
    if index.title_vectors.shape != (len(index.documents), dim):
        raise ValueError(f"title vectors {index.title_vectors.shape} do not match {len(index.documents)} documents x {dim}")


def _check_manifest(manifest: dict, *, encoder: Encoder, folder: Path) -> None:
    if manifest.get("version") != FORMAT_VERSION:
        raise IndexUnavailable(f"knowledge index in {folder} has format {manifest.get('version')!r}, expected {FORMAT_VERSION}")
    if manifest.get("encoder") != encoder_id(encoder) or manifest.get("dim") != int(encoder.dim):
        raise IndexUnavailable(
            f"knowledge index in {folder} was built with encoder {manifest.get('encoder')!r}, "
            f"not {encoder_id(encoder)!r}; re-run ingest"
        )


def _documents_json(index: KnowledgeIndex) -> list[dict]:
    out = []
    for i, info in enumerate(index.documents):
        lo, hi = index.doc_starts[i], index.doc_starts[i + 1]
        out.append({"doc_id": info.doc_id, "title": info.title, "url": info.url, "path": info.path,
                    "passages": [p.to_dict() for p in index.passages[lo:hi]]})
    return out


def _parse_documents(stored: list[dict]) -> tuple[list[DocumentInfo], list[Passage]]:
    try:
        documents = [DocumentInfo(doc_id=d["doc_id"], title=d["title"], url=d.get("url"), path=d["path"]) for d in stored]
        passages = [Passage.from_dict(p) for d in stored for p in d["passages"]]
    except (KeyError, TypeError) as exc:
        raise IndexUnavailable(f"documents.json is malformed: {exc}") from exc
    return documents, passages


def _write_json(path: Path, data: Any) -> None:
    _atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_npy(path: Path, array: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, np.asarray(array, dtype=np.float32), allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
