"""The category matcher on a small, hand-written support deployment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.intent import IntentModel, IntentPrediction, train_softmax
from knowledge.embedding import Encoder, EncoderUnavailable, load_encoder

EXAMPLES = {
    "password_reset": [
        "I forgot my password",
        "how do I reset my password",
        "I can't log in, my password doesn't work",
        "password reset link is not arriving",
        "locked out of my account after too many password attempts",
        "need to change my login password",
        "the reset password email never came",
        "help me recover access to my account",
    ],
    "invoice_download": [
        "where can I download my invoice",
        "I need a PDF of last month's invoice",
        "how do I get a copy of my bill",
        "send me the invoice for my last payment",
        "can't find invoices in the billing page",
        "I need receipts for my accounting team",
        "export all invoices for this year",
        "where are my past bills",
    ],
    "cancel_subscription": [
        "I want to cancel my subscription",
        "how do I stop my plan from renewing",
        "please end my membership",
        "cancel my account and stop billing me",
        "turn off auto renewal",
        "I no longer want the service, unsubscribe me",
        "how can I terminate my contract",
        "stop charging me every month, I'm done",
    ],
    "add_team_member": [
        "how do I invite a colleague to our workspace",
        "add a new user to my team",
        "give my coworker access to the account",
        "I want to add seats for new employees",
        "invite someone to the project",
        "how can I share the account with my team",
        "create a login for a new team member",
        "add another admin to our organisation",
    ],
    "shipping_status": [
        "where is my order",
        "my package has not arrived yet",
        "track my delivery",
        "when will my order ship",
        "the parcel is late, what's going on",
        "has my shipment left the warehouse",
        "I haven't received the item I ordered",
        "what's the tracking number for my order",
    ],
}

PARAPHRASES = [
    ("I can't remember my password, how do I set a new one?", "password_reset"),
    ("Could you email me a copy of the March invoice?", "invoice_download"),
    ("Please cancel my plan, I don't want to be billed anymore", "cancel_subscription"),
    ("How can my colleague join our workspace?", "add_team_member"),
    ("My order still hasn't been delivered", "shipping_status"),
]

OFF_TOPIC = [
    "What's a good recipe for banana bread?",
    "Who won the football match last night?",
    "Tell me a joke about penguins",
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    try:
        return load_encoder()
    except EncoderUnavailable as exc:  # pragma: no cover - the Makefile installs the model
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def model(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> IntentModel:
    return IntentModel.fit(examples=EXAMPLES, encoder=encoder, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize(("text", "category"), PARAPHRASES)
def test_paraphrases_route_to_their_category(model: IntentModel, text: str, category: str) -> None:
    prediction = model.predict(text)
    assert prediction.name == category
    assert prediction.in_scope, prediction


@pytest.mark.parametrize("text", OFF_TOPIC)
def test_off_topic_is_out_of_scope(model: IntentModel, text: str) -> None:
    prediction = model.predict(text)
    assert not prediction.in_scope, prediction
    assert prediction.confidence < model.threshold


def test_prediction_fields(model: IntentModel) -> None:
    prediction = model.predict("where is my invoice")
    assert isinstance(prediction, IntentPrediction)
    assert 0.0 <= prediction.runner_up_confidence <= prediction.confidence <= 1.0 or prediction.runner_up is not None
    assert prediction.runner_up not in (None, prediction.name)
    assert list(prediction.scores)[0] == prediction.name
    assert set(prediction.scores) <= set(EXAMPLES)
    assert all(0.0 <= v <= 1.0 for v in prediction.scores.values())
    assert 0.0 < model.threshold < 1.0


def test_predict_many_matches_predict(model: IntentModel) -> None:
    texts = [t for t, _ in PARAPHRASES] + OFF_TOPIC
    many = model.predict_many(texts)
    single = [model.predict(t) for t in texts]
    assert [p.name for p in many] == [p.name for p in single]
    np.testing.assert_allclose([p.confidence for p in many], [p.confidence for p in single], atol=1e-4)
    assert model.predict_many([]) == []


def test_threshold_is_an_operator_dial(model: IntentModel) -> None:
    assert model.threshold == 0.5
    prediction = model.predict(PARAPHRASES[0][0])
    assert prediction.in_scope and prediction.confidence < 1.0
    saved = model.threshold
    try:
        model.threshold = float(np.nextafter(prediction.confidence, 2.0))
        assert not model.predict(PARAPHRASES[0][0]).in_scope
        model.threshold = 0.0
        assert all(p.in_scope for p in model.predict_many(OFF_TOPIC))
    finally:
        model.threshold = saved


def test_fit_is_deterministic(encoder: Encoder, model: IntentModel, tmp_path: Path) -> None:
    again = IntentModel.fit(examples=EXAMPLES, encoder=encoder, cache_dir=tmp_path)
    assert again.threshold == pytest.approx(model.threshold)
    assert again.predict(OFF_TOPIC[0]).confidence == pytest.approx(model.predict(OFF_TOPIC[0]).confidence, abs=1e-5)


def test_single_category_and_blank_examples(encoder: Encoder) -> None:
    one = IntentModel.fit(examples={"password_reset": EXAMPLES["password_reset"], "empty": ["", "  "]}, encoder=encoder)
    assert one.names == ["password_reset"]
    assert one.predict("I forgot my password").name == "password_reset"
    assert one.predict("I forgot my password").runner_up is None
    assert not one.predict(OFF_TOPIC[0]).in_scope


def test_no_categories(encoder: Encoder) -> None:
    empty = IntentModel.fit(examples={}, encoder=encoder)
    prediction = empty.predict("hello")
    assert prediction.name is None and not prediction.in_scope


def test_softmax_training_separates_toy_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16, dtype=np.float32) * 3
    y = np.repeat(np.arange(4), 25)
    x = centres[y] + rng.normal(scale=0.5, size=(100, 16)).astype(np.float32)
    weights, bias = train_softmax(x, y, n_classes=4)
    assert ((x @ weights + bias).argmax(axis=1) == y).mean() == 1.0
