"""The encoder's forward passes in a child process, away from the GIL the turns need.

A forward pass is about a hundred NumPy calls. Each one releases the GIL and must take it back
before the next, so while the event loops of the same process run Python (the store, the HTTP
clients, the web server), every pass waits for them again and again: under load a pass took
55 ms of wall time for 22 ms of CPU. In a child process the pass has an interpreter of its own.

:class:`EncoderProcess` is a drop-in encoder (``dim``, ``model_id``, ``encode``) for the parent.
The child is ``python -m knowledge.encoder_process``; the two speak over its stdin and stdout:

* the child starts by writing one JSON line: ``{"dim": 384, "model_id": "..."}``;
* a request is a 4-byte big-endian length and a JSON body ``{"texts": [...], "batch_size": 64}``;
* an answer is a 1-byte status, a 4-byte length and a body: ``b"V"`` and the float32 rows,
  or ``b"E"`` and a UTF-8 error message.

Texts travel as JSON data and come back as numbers: nothing in them is executed. One request
runs at a time (a lock); :class:`knowledge.batching.GroupEncoder` in front of it groups the
requests of concurrent turns into one pass. If the child dies or stops answering, the call that
saw it raises :class:`EncoderUnavailable` (the turn escalates or is retried by its inbox, the one
retry owner) and the next call starts a fresh child.
"""

from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from knowledge.embedding import EncoderUnavailable, load_encoder

__all__ = ["EncoderProcess"]

_LENGTH = struct.Struct(">I")
_START_TIMEOUT = 120.0  # seconds for the child to load the model and say hello
_PASS_TIMEOUT = 60.0  # seconds for one answer; a longer silence means the child is stuck


class EncoderProcess:
    """An encoder whose forward passes run in a child process (started here, replaced when it dies)."""

    def __init__(self, *, model_dir: Path | None = None, pass_timeout: float = _PASS_TIMEOUT) -> None:
        self.model_dir = model_dir
        self.pass_timeout = pass_timeout
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self.starts = 0  # children started (a test reads it)
        hello = self._start()
        self.dim: int = int(hello["dim"])
        self.model_id: str = str(hello["model_id"])

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Unit-length float32 embeddings of ``texts``, exactly as the in-process encoder gives them."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of strings, not a single string")
        texts = [str(text) for text in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        body = json.dumps({"texts": texts, "batch_size": int(batch_size)}).encode()
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                self._stop()  # a child that died: close its pipes before starting the next
                self._start()
            child = self._child
            try:
                _write_frame(child.stdin, body)
                status, payload = _read_answer(child.stdout, timeout=self.pass_timeout)
            except (OSError, EOFError, TimeoutError) as exc:
                self._stop(kill=True)
                raise EncoderUnavailable(f"the encoder process failed ({exc}); the next call starts a new one") from exc
        if status == b"E":
            raise EncoderUnavailable(f"the encoder process could not encode: {payload.decode(errors='replace')}")
        return np.frombuffer(payload, dtype=np.float32).reshape(len(texts), self.dim).copy()

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process goes away)."""
        with self._lock:
            self._stop()

    def __enter__(self) -> EncoderProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the child ---------------------------------------------------------------------------

    def _start(self) -> dict:
        command = [sys.executable, "-m", "knowledge.encoder_process"]
        if self.model_dir is not None:
            command.append(str(self.model_dir))
        root = str(Path(__file__).resolve().parent.parent)
        env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=root)
        self.starts += 1
        try:
            line = _read_line(self._child.stdout, timeout=_START_TIMEOUT)
            hello = json.loads(line)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            self._stop(kill=True)
            raise EncoderUnavailable(f"the encoder process did not start: {exc}") from exc
        if "error" in hello:
            self._stop()
            raise EncoderUnavailable(hello["error"])
        return hello

    def _stop(self, *, kill: bool = False) -> None:
        """Close the child's pipes and wait for it; ``kill`` it at once when it stopped answering."""
        child, self._child = self._child, None
        if child is None:
            return
        if kill:
            child.kill()
        for stream in (child.stdin, child.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _write_frame(stream: BinaryIO, body: bytes) -> None:
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def _wait_readable(stream: BinaryIO, *, timeout: float) -> None:
    if not select.select([stream], [], [], timeout)[0]:
        raise TimeoutError(f"no answer within {timeout:.0f} s")


def _read_exactly(stream: BinaryIO, size: int, *, timeout: float) -> bytes:
    chunks, left = [], size
    while left:
        _wait_readable(stream, timeout=timeout)
        chunk = os.read(stream.fileno(), left)
        if not chunk:
            raise EOFError("the encoder process exited")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_line(stream: BinaryIO, *, timeout: float) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        line += _read_exactly(stream, 1, timeout=timeout)
    return line


def _read_answer(stream: BinaryIO, *, timeout: float) -> tuple[bytes, bytes]:
    status = _read_exactly(stream, 1, timeout=timeout)
    (size,) = _LENGTH.unpack(_read_exactly(stream, _LENGTH.size, timeout=timeout))
    return status, _read_exactly(stream, size, timeout=timeout)


def serve(*, model_dir: Path | None, requests: BinaryIO, answers: BinaryIO) -> None:
    """The child's loop: load the encoder, say hello, answer requests until stdin closes."""
    try:
        encoder = load_encoder(model_dir=model_dir)
    except EncoderUnavailable as exc:
        answers.write(json.dumps({"error": str(exc)}).encode() + b"\n")
        answers.flush()
        return
    answers.write(json.dumps({"dim": encoder.dim, "model_id": encoder.model_id}).encode() + b"\n")
    answers.flush()
    while header := requests.read(_LENGTH.size):
        (size,) = _LENGTH.unpack(header)
        try:
            request = json.loads(requests.read(size))
            vectors = encoder.encode([str(t) for t in request["texts"]], batch_size=int(request.get("batch_size", 64)))
            status, payload = b"V", np.ascontiguousarray(vectors, dtype=np.float32).tobytes()
        except Exception as exc:  # one bad request is answered, the child carries on
            status, payload = b"E", f"{type(exc).__name__}: {exc}".encode()
        answers.write(status + _LENGTH.pack(len(payload)) + payload)
        answers.flush()


def main() -> None:
    """The child's entry point: answers go to the original stdout, anything printed to stderr."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot corrupt the answers
    serve(model_dir=Path(sys.argv[1]) if len(sys.argv) > 1 else None, requests=sys.stdin.buffer, answers=answers)


if __name__ == "__main__":
    main()
