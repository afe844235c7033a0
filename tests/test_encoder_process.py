"""The encoder in a child process: the same vectors as in-process, and a dead or stuck child
costs one call, never the bot."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from bot.app import build_core
from bot.outbox import OutboxRouter
from bot.types import ConversationRef, InboundMessage, Person
from knowledge.embedding import EncoderUnavailable
from knowledge.encoder_process import EncoderProcess

TEXTS = [
    "how do I reset my password",
    'a "quoted" text with\nnewlines, \\ backslashes and {"json": true}',
    "Können Sie mir bitte helfen? 請幫忙 🙂",
    "",
    "you charged my card twice on the 3rd " * 30,  # longer than the 128-token cut
]


@pytest.fixture(scope="module")
def child():
    with EncoderProcess() as process:
        yield process


def test_the_child_gives_exactly_the_in_process_vectors_in_order(child, encoder):
    assert (child.dim, child.model_id) == (encoder.dim, encoder.model_id)
    vectors = child.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), encoder.dim)
    np.testing.assert_array_equal(vectors, encoder.encode(TEXTS))
    assert child.encode([]).shape == (0, encoder.dim)
    with pytest.raises(TypeError):
        child.encode("one string")


def test_a_child_that_died_between_calls_is_replaced_by_the_next_call(encoder):
    with EncoderProcess() as process:
        process._child.kill()
        process._child.wait()
        np.testing.assert_array_equal(process.encode(TEXTS[:1]), encoder.encode(TEXTS[:1]))
        assert process.starts == 2


def test_a_stuck_child_fails_that_call_only(encoder):
    with EncoderProcess(pass_timeout=1.0) as process:
        stuck = process._child
        os.kill(stuck.pid, signal.SIGSTOP)  # alive but silent, as a hung model would be
        with pytest.raises(EncoderUnavailable, match="next call starts a new one"):
            process.encode(TEXTS[:1])
        assert stuck.poll() is not None  # the stuck child was killed, not left behind
        np.testing.assert_array_equal(process.encode(TEXTS[:1]), encoder.encode(TEXTS[:1]))
        assert process.starts == 2


def test_a_missing_model_is_a_clear_error_at_start(tmp_path):
    with pytest.raises(EncoderUnavailable, match="not found"):
        EncoderProcess(model_dir=tmp_path)


async def test_a_bot_built_with_the_encoder_process_decides_as_the_in_process_one(make_settings, recording):
    question = "where do I add our VAT number so it shows on invoices"
    results = []
    for in_child in (True, False):
        core = build_core(settings=make_settings(encoder_process=in_child), outboxes=OutboxRouter(outboxes=[recording]))
        assert isinstance(core.encoder, EncoderProcess) is in_child
        message = InboundMessage(event_id=f"E-{in_child}", ref=ConversationRef(platform="test", channel=f"C-{in_child}", thread="1.0"),
                                 author=Person(platform_id="U1", display_name="Ann", external=True), text=question, message_id="1.0")
        result = await core.dialogue.handle(message=message)
        results.append((result.status, result.decision.category.name, [s.doc_id for s in result.decision.sources], round(result.decision.confidence, 6)))
        if in_child:
            core.encoder.close()
    assert results[0] == results[1]
    assert results[0][0] == "answered"
