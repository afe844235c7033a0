"""Tests of the knowledge package: loaders, chunking, BM25, incremental ingest and search.

They use a tiny hashing bag-of-words encoder (:class:`FakeEncoder`) instead of the real
model, so they run in well under a second and say nothing about embedding quality (that is
``benchmarks/knowledge_bench.py``'s job).
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import numpy as np
import pytest

from knowledge.bm25 import BM25Index, stem, tokenize
from knowledge.chunking import chunk_document, slugify
from knowledge.index import IndexUnavailable, KnowledgeIndex, ingest
from knowledge.loaders import Document, Section, load_folder
from knowledge.search import calibrate, search


class FakeEncoder:
    """Hashing bag-of-words embeddings: unit vectors, deterministic, counts what it encodes."""

    model_id = "fake-bow-64"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts, *, batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in tokenize(text):
                out[row, zlib.crc32(token.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


MARKDOWN = """---
url: https://help.example.com/password
---
# Reset your password

If you forgot your password you can reset it from the sign-in page.

## Steps to reset

Click "Forgot password" and follow the email link.

## Still locked out?

Contact support with your account email.
"""

HTML = """<html><head><title>Billing and invoices</title>
<link rel="canonical" href="https://help.example.com/billing">
<style>.x { color: red }</style><script>var tracking = "invoice secret";</script></head>
<body><nav>Home | Pricing</nav>
<h1>Billing and invoices</h1><p>Invoices are emailed monthly.</p>
<h2>Download an invoice</h2><ul><li>Open Billing</li><li>Click Download PDF</li></ul>
<h3>Change billing email</h3><p>Edit the billing contact under Settings.</p>
</body></html>"""

CSV = "Question,ANSWER,Url\nHow do I export data?,Use Settings > Export to get a CSV.,https://help.example.com/export\n" \
      "Can I delete my account?,Yes: Settings > Account > Delete.,\n"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A small knowledge base in every supported format."""
    root = tmp_path / "kb"
    write(root / "password.md", MARKDOWN)
    write(root / "guides" / "billing.html", HTML)
    write(root / "shipping.txt", "Shipping times\n\nOrders ship within two business days worldwide.\n")
    write(root / "faq.csv", CSV)
    write(root / "mobile.md", "# Mobile app\n\nThe mobile app runs on iOS and Android phones.\n")
    write(root / "api.md", "# API keys\n\nCreate an API key under Developer settings to call the REST API.\n")
    write(root / "teams.md", "# Team members\n\nInvite colleagues to your workspace and assign roles.\n")
    write(root / "notes.md", "# Notifications\n\nChoose which email notifications you receive.\n")
    return root


# --------------------------------------------------------------------------- loaders


def test_markdown_front_matter_title_and_sections(kb: Path) -> None:
    docs = {d.doc_id: d for d in load_folder(source_dir=kb).documents}
    doc = docs["password"]
    assert doc.title == "Reset your password"
    assert doc.url == "https://help.example.com/password"
    assert [s.heading for s in doc.sections] == ["", "Steps to reset", "Still locked out?"]
    assert "follow the email link" in doc.text


def test_html_title_headings_lists_and_no_scripts(kb: Path) -> None:
    doc = {d.doc_id: d for d in load_folder(source_dir=kb).documents}["guides/billing"]
    assert doc.title == "Billing and invoices"
    assert doc.url == "https://help.example.com/billing"
    headings = [s.heading for s in doc.sections]
    assert "Download an invoice" in headings and "Change billing email" in headings
    assert "Click Download PDF" in doc.text
    assert "tracking" not in doc.text and "color" not in doc.text and "Pricing" not in doc.text


def test_text_first_line_is_title(kb: Path) -> None:
    doc = {d.doc_id: d for d in load_folder(source_dir=kb).documents}["shipping"]
    assert doc.title == "Shipping times"
    assert doc.text.startswith("Orders ship")


def test_csv_rows_become_documents_with_case_insensitive_headers(kb: Path) -> None:
    docs = {d.doc_id: d for d in load_folder(source_dir=kb).documents}
    assert docs["faq#1"].title == "How do I export data?"
    assert docs["faq#1"].url == "https://help.example.com/export"
    assert docs["faq#2"].url is None
    assert "Delete" in docs["faq#2"].text


def test_broken_files_are_skipped_with_a_warning(kb: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(kb / "broken.md", b"# Title\n\xff\xfe\xfa not utf-8")
    write(kb / "bad.csv", "title,body\nx,y\n")
    write(kb / ".hidden.md", "# Hidden\n\nnot indexed")
    with caplog.at_level(logging.WARNING, logger="knowledge.loaders"):
        result = load_folder(source_dir=kb)
    problems = {p.path: p.reason for p in result.problems}
    assert set(problems) == {"broken.md", "bad.csv"}
    assert "UTF-8" in problems["broken.md"] and "question" in problems["bad.csv"]
    assert "broken.md" in caplog.text
    ids = {d.doc_id for d in result.documents}
    assert "password" in ids and "broken" not in ids and ".hidden" not in ids


# --------------------------------------------------------------------------- chunking


def test_slugify_matches_github_anchors() -> None:
    assert slugify("Still locked out?") == "still-locked-out"
    assert slugify("Step 2: Connect your bank (beta)") == "step-2-connect-your-bank-beta"
    assert slugify("API & Webhooks") == "api--webhooks"


def test_chunks_carry_anchor_url_and_title(kb: Path) -> None:
    doc = {d.doc_id: d for d in load_folder(source_dir=kb).documents}["password"]
    passages = chunk_document(doc)
    assert [p.anchor for p in passages] == ["", "steps-to-reset", "still-locked-out"]
    assert passages[1].url == "https://help.example.com/password#steps-to-reset"
    assert passages[1].index_text.startswith("Reset your password: Steps to reset")


def test_repeated_headings_get_numbered_anchors_and_long_sections_split() -> None:
    paragraphs = "\n\n".join(" ".join(f"w{i}_{j}" for j in range(60)) for i in range(10))
    doc = Document(doc_id="d", title="T", url="https://x/d", path="d.md", text="",
                   sections=(Section("FAQ", 2, "a"), Section("FAQ", 2, paragraphs)))
    passages = chunk_document(doc)
    assert passages[0].anchor == "faq" and passages[1].anchor == "faq-1"
    parts = [p for p in passages if p.anchor == "faq-1"]
    assert len(parts) >= 3
    assert all(len(p.text.split()) <= 250 for p in parts)
    assert parts[0].text.split("\n\n")[0].split()[0] == "w0_0"  # split at a paragraph boundary
    overlap = parts[1].text.split("\n\n")[0].split()
    assert overlap[0] == "…" and overlap[1:] == parts[0].text.split()[-(len(overlap) - 1):]
    assert len({p.passage_id for p in passages}) == len(passages)


# --------------------------------------------------------------------------- bm25


def test_tokenizer_drops_stopwords_and_stems() -> None:
    assert tokenize("How do I download my invoices?") == tokenize("download invoice")
    assert stem("uploading") == "upload" and stem("policies") == "policy"


def test_bm25_ranks_the_matching_passage_first() -> None:
    index = BM25Index.build(["Reset your password from the sign-in page",
                             "Invoices are emailed every month",
                             "Download a PDF of any invoice from Billing"])
    top = index.top("where can I download invoices", k=3)
    assert top[0][0] == 2
    assert index.top("the and of", k=3) == []
    assert index.scores("password")[0] > 0 and index.scores("password")[1] == 0


# --------------------------------------------------------------------------- index


def test_incremental_ingest_reembeds_only_the_changed_file(kb: Path, tmp_path: Path) -> None:
    encoder = FakeEncoder()
    index_dir = tmp_path / "index"
    first = ingest(source_dir=kb, index_dir=index_dir, encoder=encoder)
    assert sorted(first.added) == sorted(["api.md", "faq.csv", "guides/billing.html", "mobile.md",
                                          "notes.md", "password.md", "shipping.txt", "teams.md"])
    before = KnowledgeIndex.load(index_dir, encoder=encoder)

    write(kb / "shipping.txt", "Shipping times\n\nOrders ship within one business day.\n")
    (kb / "notes.md").unlink()
    encoder.texts.clear()
    second = ingest(source_dir=kb, index_dir=index_dir, encoder=encoder)
    assert second.updated == ["shipping.txt"] and second.removed == ["notes.md"] and not second.added
    assert len(second.unchanged) == 6
    assert encoder.texts == ["Shipping times\nOrders ship within one business day.", "Shipping times"]

    after = KnowledgeIndex.load(index_dir, encoder=encoder)
    assert "notes" not in after.doc_index
    i, j = before.doc_index["password"], after.doc_index["password"]
    assert np.array_equal(before.title_vectors[i], after.title_vectors[j])
    assert "calibration" in after.manifest and after.manifest["files"]["shipping.txt"]["sha256"]

    encoder.texts.clear()
    third = ingest(source_dir=kb, index_dir=index_dir, encoder=encoder)
    assert encoder.texts == [] and not (third.added or third.updated or third.removed)


def test_load_refuses_missing_index_and_other_encoder(kb: Path, tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable):
        KnowledgeIndex.load(tmp_path / "nothing", encoder=FakeEncoder())
    ingest(source_dir=kb, index_dir=tmp_path / "ix", encoder=FakeEncoder())
    with pytest.raises(IndexUnavailable):
        KnowledgeIndex.load(tmp_path / "ix", encoder=FakeEncoder(dim=32))


# --------------------------------------------------------------------------- search


@pytest.fixture
def index(kb: Path) -> KnowledgeIndex:
    return KnowledgeIndex.build_in_memory(load_folder(source_dir=kb).documents, FakeEncoder())


def test_search_returns_cited_passage_and_scores(index: KnowledgeIndex) -> None:
    result = search(index, "how do I reset my forgotten password", k=3)
    hit = result.top
    assert hit is not None and hit.doc_id == "password"
    assert hit.title == "Reset your password"
    assert hit.url is not None and hit.url.startswith("https://help.example.com/password")
    assert isinstance(hit.anchor, str)
    assert hit.score > 0 and 0 < hit.semantic <= 1 and 0 < hit.lexical <= 1
    assert result.answerable and 0.5 <= result.confidence <= 1
    assert len({h.doc_id for h in result.hits}) == len(result.hits)  # one hit per document


def test_search_cites_the_matching_section_anchor(index: KnowledgeIndex) -> None:
    hit = search(index, "download invoice pdf billing").top
    assert hit is not None and hit.doc_id == "guides/billing" and hit.anchor == "download-an-invoice"


def test_off_topic_query_is_not_answerable(index: KnowledgeIndex) -> None:
    result = search(index, "what is the weather forecast for Paris tomorrow")
    assert not result.answerable and result.missing_knowledge
    assert result.confidence < 0.5
    assert not search(index, "   ").answerable


def test_threshold_override_and_calibration_record(index: KnowledgeIndex) -> None:
    calibration = calibrate(index)
    assert calibration["n_pseudo"] == len(index.documents)
    assert 0 <= calibration["pseudo_negative_answer_rate"] <= 0.5
    query = "how do I reset my forgotten password"
    assert not search(index, query, threshold=1.0).answerable
    assert search(index, "weather in Paris", threshold=0.0).answerable
