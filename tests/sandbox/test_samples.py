"""Each sample question on the first screen really produces the outcome its label promises."""

from __future__ import annotations

import pytest

from adapters.sandbox.samples import SAMPLES, identity


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["key"] for s in SAMPLES])
async def test_sample_produces_its_outcome(client, chat_id, sample):
    who = identity(key=sample["identity"])
    body = {"conversation": chat_id, "customer": {"name": who["name"], "email": who["email"]}, "text": sample["text"]}
    data = await (await client.post("/sandbox/api/messages", json=body)).json()
    decision, expect = data["decision"], sample["expect"]
    assert decision["action"] == expect["action"], decision
    if "reason" in expect:
        assert expect["reason"] in decision["reasons"], decision
    if sample["key"] == "missing":
        assert decision["missing_knowledge"], decision
    if sample["key"] == "answer":
        assert decision["sources"], decision
