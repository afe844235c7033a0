"""One forward pass for the messages that arrive together: group encoding across threads.

Each turn embeds one message, on a worker thread. One message costs about 10 ms on this
machine's CPU, eight together about 33 ms (4 ms each): most of a small pass is per-call
overhead, wherever the pass runs (in this process, or in the encoder's child process,
knowledge/encoder_process.py, where ``baton serve`` runs it). :class:`GroupEncoder` lets
the threads that ask while a pass is running wait for the next pass, which then encodes all of
them in one batch (group commit, as databases do for log writes). A lone request never waits
for company: it starts at once when no pass is running, so a quiet bot is as fast as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(slots=True, eq=False)  # identity, not equal texts: two customers may send the same words
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class GroupEncoder:
    """Wraps an encoder: concurrent ``encode`` calls from many threads share forward passes."""

    def __init__(self, *, encoder: Any, max_texts: int = 32) -> None:
        self.encoder = encoder
        self.max_texts = max_texts
        self.dim = encoder.dim
        self.passes = 0  # forward passes run (a test and the benchmark read it)
        self._waiting: list[_Request] = []
        self._running = False
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        """Requests queued behind the pass that is running."""
        with self._changed:
            return len(self._waiting)

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-length embeddings of ``texts``, in order, exactly as the wrapped encoder gives them."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a single string")
        mine = _Request(texts=list(texts))
        if not mine.texts:
            return self.encoder.encode([], batch_size=batch_size)
        with self._changed:
            self._waiting.append(mine)
            while not mine.done and self._running:
                self._changed.wait()
            if mine.done:
                return self._result(mine)
            batch = self._take_batch(mine)
        self._run(batch, batch_size=batch_size)
        return self._result(mine)

    def _take_batch(self, mine: _Request) -> list[_Request]:
        """Become the runner: this request plus the waiting ones, up to ``max_texts`` texts."""
        self._running = True
        self._waiting.remove(mine)
        batch, count = [mine], len(mine.texts)
        while self._waiting and count + len(self._waiting[0].texts) <= self.max_texts:
            request = self._waiting.pop(0)
            batch.append(request)
            count += len(request.texts)
        return batch

    def _run(self, batch: list[_Request], *, batch_size: int) -> None:
        try:
            vectors = self.encoder.encode([text for request in batch for text in request.texts], batch_size=batch_size)
            start = 0
            for request in batch:
                request.vectors = vectors[start : start + len(request.texts)]
                start += len(request.texts)
        except BaseException as exc:  # every waiter of this pass gets the failure, none hangs
            for request in batch:
                request.error = exc
        finally:
            with self._changed:
                self.passes += 1
                for request in batch:
                    request.done = True
                self._running = False
                self._changed.notify_all()

    @staticmethod
    def _result(request: _Request) -> np.ndarray:
        if request.error is not None:
            raise request.error
        return request.vectors
