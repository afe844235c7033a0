"""Concurrent turns share forward passes of the encoder, and get exactly their own vectors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from knowledge.batching import GroupEncoder


class SlowRecordingEncoder:
    """Stands in for the model: a vector per text, a pass that takes a while, calls recorded."""

    dim = 4

    def __init__(self, *, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode(self, texts, *, batch_size: int = 64) -> np.ndarray:
        self.calls.append(list(texts))
        if len(self.calls) == 1:  # hold the first pass until the others are waiting
            self.entered.set()
            self.release.wait(5)
        if self.fail_on in texts:
            raise RuntimeError("model failed")
        return np.array([[len(t), ord(t[0]), i, 1.0] for i, t in enumerate(texts)], dtype=np.float32)


def _ask_in_threads(group: GroupEncoder, texts: list[str]) -> tuple[dict[str, object], list[threading.Thread]]:
    results: dict[str, object] = {}

    def ask(text: str) -> None:
        try:
            results[text] = group.encode([text])[0]
        except Exception as exc:
            results[text] = exc

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    return results, threads


def test_requests_that_wait_for_a_running_pass_share_the_next_one():
    model = SlowRecordingEncoder()
    group = GroupEncoder(encoder=model)
    results, threads = _ask_in_threads(group, ["first", "bb", "ccc", "dddd"])
    threads[0].start()
    assert model.entered.wait(5)
    for thread in threads[1:]:
        thread.start()
    while group.waiting < 3:  # the three later ones queue behind the running pass
        threading.Event().wait(0.01)
    model.release.set()
    for thread in threads:
        thread.join(5)
    assert model.calls[0] == ["first"] and sorted(model.calls[1]) == ["bb", "ccc", "dddd"] and len(model.calls) == 2
    for text in ("first", "bb", "ccc", "dddd"):
        assert results[text][0] == len(text) and results[text][1] == ord(text[0])  # each got its own row
    assert group.passes == 2


def test_a_lone_request_starts_at_once_and_equal_texts_are_separate_requests():
    model = SlowRecordingEncoder()
    model.release.set()
    group = GroupEncoder(encoder=model)
    assert group.encode(["same"])[0][0] == 4
    assert group.encode(["same", "same"]).shape == (2, 4)
    assert group.passes == 2


def test_a_failing_pass_fails_every_request_in_it_and_none_hangs():
    model = SlowRecordingEncoder(fail_on="boom")
    group = GroupEncoder(encoder=model)
    results, threads = _ask_in_threads(group, ["first", "boom", "other"])
    threads[0].start()
    assert model.entered.wait(5)
    threads[1].start(), threads[2].start()
    while group.waiting < 2:
        threading.Event().wait(0.01)
    model.release.set()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)
    assert isinstance(results["boom"], RuntimeError) and isinstance(results["other"], RuntimeError)
    assert results["first"][0] == 5
    assert group.encode(["after"])[0][0] == 5  # the encoder is usable again


def test_a_single_string_is_refused_like_the_real_encoder():
    with pytest.raises(TypeError):
        GroupEncoder(encoder=SlowRecordingEncoder()).encode("text")


def test_the_real_encoder_gives_the_same_vectors_grouped_or_not(encoder):
    group = GroupEncoder(encoder=encoder)
    texts = ["I was charged twice", "How do I connect Slack?", "Someone hacked my account"]
    results, threads = _ask_in_threads(group, texts)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    alone = encoder.encode(texts)
    for text, row in zip(texts, alone):
        assert np.allclose(results[text], row, atol=1e-5)


def test_customers_sending_the_same_words_at_once_each_get_an_answer():
    model = SlowRecordingEncoder()
    group = GroupEncoder(encoder=model)
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(group.encode(["same words"])[0])
        except Exception as exc:  # before requests compared by identity, this raised ValueError
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    threads[0].start()
    assert model.entered.wait(5)
    for thread in threads[1:]:
        thread.start()
    while group.waiting < 3:
        threading.Event().wait(0.01)
    model.release.set()
    for thread in threads:
        thread.join(5)
    assert len(results) == 4 and all(not isinstance(r, Exception) and r[0] == len("same words") for r in results)
    assert group.passes == 2
