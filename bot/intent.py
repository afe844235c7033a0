"""Ticket-category matcher: which of the team's categories is a message about, if any?

A deployment lists categories, each with example utterances (typically 10 to 100).
:class:`IntentModel` routes a customer message to one of them, or says it is out of
scope, using only those examples:

* **Classifier.**  Multinomial logistic regression (softmax), trained in NumPy by
  L-BFGS on the L2-normalised MiniLM sentence embeddings of the examples
  (:mod:`knowledge.embedding`).
* **Evidence of scope.**  Besides the classifier's probability, the mean cosine
  similarity of the message to its 3 nearest examples of the predicted category.  A
  softmax spreads its mass over the known categories even for a message about none of
  them; the distance to real examples is what gives an off-topic message away, and the
  two signals together separate in-scope from out-of-scope messages better than either.
* **Cross-validation at fit time**, from the examples alone (never test or live
  labels): *leave categories out*.  The categories are split into 3 folds; for each
  fold a model is trained on the other categories, minus a held-out fifth of their
  examples.  The held-out fifth gives in-scope messages with a known right answer; the
  held-out categories give out-of-scope messages close to the domain (the hardest
  kind, and what an unlisted ticket type looks like).  Small deployments repeat the
  split with new folds (up to 3 times) so that about 1,000 in-scope messages are scored.
* **Confidence.**  ``sigmoid(a * similarity + b * log_probability + c)``.  The slopes
  ``a`` and ``b`` come from a logistic regression on the cross-validated messages
  (target: in scope *and* routed right), so the score weighs the two signals the way
  that best separates good routes from bad ones.  The best of the classifier's top 5
  categories by this score is the prediction.
* **Threshold.**  The cut-off rejects half of the cross-validated held-out-category
  messages (``PSEUDO_OOS_REJECTED``).  Why not "keep X% of in-scope messages": held-out
  examples are near-copies of their training siblings (cross-validated accuracy 0.98
  on CLINC150 against 0.95 on its test set), so in-scope targets come out too strict
  on real traffic, while held-out categories are a fair model of the close
  out-of-scope traffic.  The intercept ``c`` is then set so that this cut-off is a
  confidence of exactly 0.5: ``threshold`` is 0.5 after :meth:`IntentModel.fit`,
  0.5 means "the boundary learnt from the examples" in every deployment, and an
  operator dial (``category_confidence`` in the rules) moves it up (escalate more) or
  down.  ``cv_report`` keeps the cross-validated figures behind the choice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.embedding import Encoder, encode_cached, one_blas_thread

__all__ = ["IntentModel", "IntentPrediction"]

L2_PENALTY = 3e-5  # on the softmax weights; small: unit-norm embeddings need large weights
MAX_ITERATIONS = 200  # L-BFGS steps for the softmax; converged well before on all suites tried
NEIGHBOURS = 3  # nearest examples of a category averaged into its similarity
CV_FOLDS = 3  # category folds for the threshold; every category is held out once
CV_HOLDOUT = 0.2  # share of each kept category's examples scored as in-scope messages
CV_TARGET_IN_SCOPE = 1000  # held-out in-scope messages wanted; small deployments repeat the split
CV_MAX_REPEATS = 3
PSEUDO_OOS_REJECTED = 0.5  # share of held-out-category messages the threshold rejects
THRESHOLD = 0.5  # the confidence the fitted cut-off is mapped to
CALIBRATION_L2 = 1.0  # see _fit_calibration
TOP_SCORES = 5  # categories reported in IntentPrediction.scores
ROW_BLOCK = 1024  # messages scored at once: bounds the (messages x examples) similarity matrix
LOG_PROB_FLOOR = -20.0


@dataclass(frozen=True)
class IntentPrediction:
    """The matcher's answer for one message.

    ``name`` is the best category (``None`` only when the model has no categories);
    ``confidence`` in [0, 1] grows with the evidence that ``name`` is right and the
    message in scope (0.5 is the boundary learnt at fit time); ``in_scope`` is
    ``confidence >= model.threshold``.  ``scores`` holds the same confidence for the
    top few categories, best first.
    """

    name: str | None
    confidence: float
    runner_up: str | None
    runner_up_confidence: float
    in_scope: bool
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Calibration:
    """confidence = sigmoid(w_sim * similarity + w_logp * log_probability + bias)."""

    w_sim: float
    w_logp: float
    bias: float

    def __call__(self, similarity: np.ndarray, log_prob: np.ndarray) -> np.ndarray:
        z = self.w_sim * similarity + self.w_logp * np.maximum(log_prob, LOG_PROB_FLOOR) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


# Used when there is nothing to cross-validate on (one category, or degenerate scores):
# confidence 0.5 at a mean similarity of 0.5 to the category's nearest examples.
_FALLBACK_CALIBRATION = _Calibration(w_sim=12.0, w_logp=1.0, bias=-6.0)


class IntentModel:
    """Routes messages to categories learnt from examples; see the module docstring.

    Build with :meth:`fit`.  ``threshold`` is the in-scope cut-off on
    :attr:`IntentPrediction.confidence`: 0.5 after fitting, which is where
    leave-categories-out cross-validation over the examples alone put the boundary
    (see the module docstring); set it higher to escalate more.  ``cv_report`` holds
    the cross-validated figures behind the choice.
    """

    def __init__(
        self,
        *,
        names: Sequence[str],
        encoder: Encoder,
        weights: np.ndarray,
        bias: np.ndarray,
        examples: np.ndarray,
        bounds: np.ndarray,
        calibration: _Calibration,
        threshold: float,
        cv_report: Mapping[str, float] | None = None,
    ) -> None:
        self.names = list(names)
        self.encoder = encoder
        self.threshold = float(threshold)
        self.cv_report = dict(cv_report or {})
        self._weights = weights
        self._bias = bias
        self._examples = examples
        self._bounds = bounds
        self._calibration = calibration

    # ------------------------------------------------------------------ fitting

    @classmethod
    def fit(
        cls,
        *,
        examples: Mapping[str, Sequence[str]],
        encoder: Encoder,
        cache_dir: Path | None = None,
        seed: int = 0,
    ) -> IntentModel:
        """Train on ``examples`` (category name -> utterances) and choose the threshold.

        Embeddings of the examples are cached under ``cache_dir`` when given (large
        suites have 10,000+ examples).  ``seed`` fixes the cross-validation split.
        """
        names, texts, labels = _flatten(examples)
        vectors = encode_cached(encoder, texts, cache_dir=cache_dir) if texts else np.zeros((0, encoder.dim), np.float32)
        order = np.argsort(labels, kind="stable")
        vectors, labels = vectors[order], labels[order]
        weights, bias = train_softmax(vectors, labels, n_classes=len(names))
        bounds = np.searchsorted(labels, np.arange(len(names) + 1)).astype(np.int64)
        calibration, threshold, report = _choose_threshold(vectors, labels, n_classes=len(names), seed=seed)
        return cls(
            names=names, encoder=encoder, weights=weights, bias=bias, examples=vectors, bounds=bounds,
            calibration=calibration, threshold=threshold, cv_report=report,
        )

    # ------------------------------------------------------------------ predicting

    def predict(self, text: str) -> IntentPrediction:
        """Route one message (on one BLAS thread: steadier latency on a busy machine)."""
        with one_blas_thread():
            return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[IntentPrediction]:
        """Route several messages (encoded in one batch)."""
        if isinstance(texts, str):
            raise TypeError("predict_many() takes a sequence of strings")
        return self.predict_vectors(self.encoder.encode(list(texts)))

    def predict_vectors(self, vectors: np.ndarray) -> list[IntentPrediction]:
        """Route messages already embedded with this model's encoder (rows unit-norm)."""
        if not self.names:
            return [IntentPrediction(None, 0.0, None, 0.0, False, {}) for _ in range(len(vectors))]
        out: list[IntentPrediction] = []
        for start in range(0, len(vectors), ROW_BLOCK):
            top, conf = self._score(vectors[start : start + ROW_BLOCK])
            out.extend(self._prediction(t, c) for t, c in zip(top, conf))
        return out

    def _score(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top categories per message, best first by confidence, and their confidences."""
        log_probs = _log_softmax(vectors @ self._weights + self._bias)
        top = np.argsort(-log_probs, axis=1)[:, : min(TOP_SCORES, len(self.names))]
        sims = _class_similarity(vectors @ self._examples.T, self._bounds, top)
        conf = self._calibration(sims, np.take_along_axis(log_probs, top, axis=1))
        best_first = np.argsort(-conf, axis=1, kind="stable")
        return np.take_along_axis(top, best_first, axis=1), np.take_along_axis(conf, best_first, axis=1)

    def _prediction(self, top: np.ndarray, conf: np.ndarray) -> IntentPrediction:
        scores = {self.names[c]: round(float(p), 6) for c, p in zip(top, conf)}
        runner = self.names[top[1]] if len(top) > 1 else None
        return IntentPrediction(
            name=self.names[top[0]],
            confidence=float(conf[0]),
            runner_up=runner,
            runner_up_confidence=float(conf[1]) if len(top) > 1 else 0.0,
            in_scope=float(conf[0]) >= self.threshold,
            scores=scores,
        )


# ---------------------------------------------------------------------- helpers


def _flatten(examples: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str], np.ndarray]:
    """Category names, example texts and integer labels; blank examples are dropped."""
    names, texts, labels = [], [], []
    for name, utterances in examples.items():
        kept = [u for u in utterances if isinstance(u, str) and u.strip()]
        if not kept:
            continue
        names.append(str(name))
        texts.extend(kept)
        labels.extend([len(names) - 1] * len(kept))
    return names, texts, np.asarray(labels, dtype=np.int64)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _class_similarity(sims: np.ndarray, bounds: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Mean of the top-``NEIGHBOURS`` similarities to each requested class's examples.

    ``sims`` is (messages, examples) with examples sorted by class, ``bounds`` the class
    boundaries in that order, ``classes`` (messages, c) the classes wanted per message.
    """
    out = np.zeros(classes.shape, dtype=np.float32)
    for cls in np.unique(classes):
        rows, cols = np.nonzero(classes == cls)
        block = sims[rows, bounds[cls] : bounds[cls + 1]]
        k = min(NEIGHBOURS, block.shape[1])
        if k == 0:
            continue
        nearest = np.partition(block, block.shape[1] - k, axis=1)[:, -k:]
        out[rows, cols] = nearest.mean(axis=1)
    return out


# ---------------------------------------------------------------------- softmax training


def train_softmax(
    x: np.ndarray, y: np.ndarray, *, n_classes: int, l2: float = L2_PENALTY, max_iter: int = MAX_ITERATIONS
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression by L-BFGS; returns float32 (weights, bias).

    Minimises mean cross-entropy + ``l2/2 * |W|^2`` (bias unpenalised).  Deterministic.
    """
    dim = x.shape[1]
    if n_classes < 2 or len(x) == 0:
        return np.zeros((dim, max(n_classes, 1)), np.float32), np.zeros(max(n_classes, 1), np.float32)
    x = np.ascontiguousarray(x, dtype=np.float32)
    onehot = np.zeros((len(x), n_classes), np.float32)
    onehot[np.arange(len(x)), y] = 1.0

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: dim * n_classes].reshape(dim, n_classes).astype(np.float32)
        b = theta[dim * n_classes :].astype(np.float32)
        log_p = _log_softmax(x @ w + b)
        loss = -float(np.mean(np.sum(log_p * onehot, axis=1))) + 0.5 * l2 * float(np.sum(w * w))
        g = (np.exp(log_p) - onehot) / len(x)
        grad_w = x.T @ g + l2 * w
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)]).astype(np.float64)

    theta = _lbfgs(loss_and_grad, np.zeros(dim * n_classes + n_classes), max_iter=max_iter)
    weights = theta[: dim * n_classes].reshape(dim, n_classes).astype(np.float32)
    return np.ascontiguousarray(weights), theta[dim * n_classes :].astype(np.float32)


def _lbfgs(fun, x0: np.ndarray, *, max_iter: int, history: int = 10, tol: float = 1e-5) -> np.ndarray:
    """Minimise a smooth convex function with L-BFGS and a backtracking (Armijo) line search."""
    x = x0.copy()
    fx, g = fun(x)
    s_hist: list[np.ndarray] = []
    y_hist: list[np.ndarray] = []
    for _ in range(max_iter):
        if np.abs(g).max() < tol:
            break
        d = -_lbfgs_direction(g, s_hist, y_hist)
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            d, slope = -g, -float(g @ g)
        step, (f_new, g_new), x_new = 1.0, (fx, g), x
        while step > 1e-10:
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            if f_new <= fx + 1e-4 * step * slope:
                break
            step *= 0.5
        s, yv = x_new - x, g_new - g
        if float(s @ yv) > 1e-12:
            s_hist.append(s)
            y_hist.append(yv)
            if len(s_hist) > history:
                s_hist.pop(0)
                y_hist.pop(0)
        if fx - f_new < 1e-10 * max(1.0, abs(fx)):
            x, fx, g = x_new, f_new, g_new
            break
        x, fx, g = x_new, f_new, g_new
    return x


def _lbfgs_direction(g: np.ndarray, s_hist: list[np.ndarray], y_hist: list[np.ndarray]) -> np.ndarray:
    """Two-loop recursion: approximate inverse Hessian times gradient."""
    q = g.copy()
    alphas = []
    for s, yv in zip(reversed(s_hist), reversed(y_hist)):
        rho = 1.0 / float(yv @ s)
        a = rho * float(s @ q)
        q -= a * yv
        alphas.append((rho, a, s, yv))
    if s_hist:
        q *= float(s_hist[-1] @ y_hist[-1]) / float(y_hist[-1] @ y_hist[-1])
    for rho, a, s, yv in reversed(alphas):
        q += (a - rho * float(yv @ q)) * s
    return q


# ---------------------------------------------------------------------- threshold by CV


def _choose_threshold(
    vectors: np.ndarray, labels: np.ndarray, *, n_classes: int, seed: int
) -> tuple[_Calibration, float, dict[str, float]]:
    """Leave-categories-out CV -> (calibration anchored at THRESHOLD, THRESHOLD, report)."""
    if n_classes < 2:
        return _FALLBACK_CALIBRATION, THRESHOLD, {}
    features, correct, is_oos = _cross_validated_scores(vectors, labels, n_classes=n_classes, seed=seed)
    if not (~is_oos).any() or not is_oos.any():
        return _FALLBACK_CALIBRATION, THRESHOLD, {}
    target = (correct & ~is_oos).astype(np.float64)
    weight = np.where(is_oos, 0.5 / is_oos.sum(), 0.5 / (~is_oos).sum())
    calibration = _fit_calibration(features, target, weight)
    logit = calibration.w_sim * features[:, 0] + calibration.w_logp * np.maximum(features[:, 1], LOG_PROB_FLOOR)
    cut = float(np.quantile(logit[is_oos], PSEUDO_OOS_REJECTED))
    anchored = _Calibration(calibration.w_sim, calibration.w_logp, -cut + _logit(THRESHOLD))
    conf = anchored(features[:, 0], features[:, 1])
    accepted = conf >= THRESHOLD
    report = {
        "cv_in_scope": int((~is_oos).sum()),
        "cv_out_of_scope": int(is_oos.sum()),
        "cv_accuracy_no_threshold": float(correct[~is_oos].mean()),
        "cv_in_scope_accuracy": float((correct & accepted)[~is_oos].mean()),
        "cv_oos_recall": float((~accepted)[is_oos].mean()),
        "w_similarity": calibration.w_sim,
        "w_log_prob": calibration.w_logp,
        "unanchored_threshold": _sigmoid(cut + calibration.bias),
    }
    return anchored, THRESHOLD, report


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _cross_validated_scores(
    vectors: np.ndarray, labels: np.ndarray, *, n_classes: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of held-out examples: features (similarity, log-prob), correct?, out-of-scope?

    Small deployments give few held-out messages, so the split is repeated (up to
    ``CV_MAX_REPEATS`` times, new random folds each time) until about
    ``CV_TARGET_IN_SCOPE`` in-scope messages are scored: it steadies the calibration.
    """
    rng = np.random.default_rng(seed)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    scored = 0
    while len(parts) < CV_MAX_REPEATS and (not parts or scored < CV_TARGET_IN_SCOPE):
        parts.append(_one_cv_split(vectors, labels, n_classes=n_classes, rng=rng))
        scored += int((~parts[-1][2]).sum())
    return tuple(np.concatenate(column) for column in zip(*parts))  # type: ignore[return-value]


def _one_cv_split(
    vectors: np.ndarray, labels: np.ndarray, *, n_classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One leave-categories-out pass: every category is held out once."""
    folds = min(CV_FOLDS, n_classes)
    fold_of_class = rng.permutation(np.arange(n_classes) % folds)
    holdout = _holdout_mask(labels, rng)
    feats, correct, oos = [], [], []
    for fold in range(folds):
        kept = np.flatnonzero(fold_of_class != fold)
        remap = -np.ones(n_classes, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        train = (remap[labels] >= 0) & ~holdout
        val_in = (remap[labels] >= 0) & holdout
        val_out = remap[labels] < 0
        x_train, y_train = vectors[train], remap[labels[train]]
        w, b = train_softmax(x_train, y_train, n_classes=len(kept))
        bounds = np.searchsorted(y_train, np.arange(len(kept) + 1))
        for rows, is_out in ((np.flatnonzero(val_in), False), (np.flatnonzero(val_out), True)):
            for start in range(0, len(rows), ROW_BLOCK):
                block = rows[start : start + ROW_BLOCK]
                x = vectors[block]
                log_p = _log_softmax(x @ w + b)
                pred = log_p.argmax(axis=1)[:, None]
                sim = _class_similarity(x @ x_train.T, bounds, pred)[:, 0]
                feats.append(np.stack([sim, np.take_along_axis(log_p, pred, axis=1)[:, 0]], axis=1))
                correct.append(np.zeros(len(x), bool) if is_out else pred[:, 0] == remap[labels[block]])
                oos.append(np.full(len(x), is_out))
    return np.concatenate(feats), np.concatenate(correct), np.concatenate(oos)


def _holdout_mask(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mark ~CV_HOLDOUT of each category's examples, keeping at least one for training."""
    mask = np.zeros(len(labels), dtype=bool)
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        n = min(len(idx) - 1, max(1, int(round(CV_HOLDOUT * len(idx)))))
        if n > 0:
            mask[rng.choice(idx, size=n, replace=False)] = True
    return mask


def _fit_calibration(features: np.ndarray, target: np.ndarray, weight: np.ndarray) -> _Calibration:
    """Weighted logistic regression on (similarity, log-prob) by Newton's method.

    The message weights sum to one; a ridge of ``CALIBRATION_L2 / n`` on the two
    slopes (a prior worth about one message) keeps them moderate on small deployments
    whose held-out messages separate perfectly, where an unpenalised fit would push
    every confidence to 0 or 1 and leave the operator dial nothing to move.  On
    thousands of messages it is negligible.
    """
    x = np.column_stack([features[:, 0], np.maximum(features[:, 1], LOG_PROB_FLOOR), np.ones(len(features))])
    x = x.astype(np.float64)
    beta = np.zeros(3)
    ridge = np.diag([CALIBRATION_L2 / len(x), CALIBRATION_L2 / len(x), 1e-9])  # bounds the slopes when CV separates perfectly
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50, 50)))
        grad = x.T @ (weight * (p - target)) + ridge @ beta
        hess = (x * (weight * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    if not np.all(np.isfinite(beta)) or beta[0] <= 0 or beta[1] < 0:
        return _FALLBACK_CALIBRATION
    return _Calibration(w_sim=float(beta[0]), w_logp=float(beta[1]), bias=float(beta[2]))
