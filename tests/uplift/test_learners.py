"""The learners: every one on the scikit-learn contract, and the evaluation the issue sets.

On a simulated campaign, each learner's Qini coefficient on an independent campaign
reaches at least 70% of the oracle's (ranking by the true uplift) and beats a response
model that ignores the treatment. Seeds are fixed: the simulation's and the learners'.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from adlens.errors import InvalidInputError, UnknownNameError
from adlens.uplift.learners import LEARNERS, XLearner, base_estimator, make_learner, predict_outcomes
from adlens.uplift.metrics import evaluate
from adlens.uplift.model import UpliftModel, fit_campaign, read_campaign


def small(n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.2 + 0.3 * t * (X[:, 0] > 0)).astype(int)
    return X, y, t


@pytest.mark.parametrize("name", LEARNERS)
@pytest.mark.parametrize("estimator", ["hgb", "logistic"])
def test_every_learner_fits_predicts_and_clones(name, estimator):
    X, y, t = small()
    learner = make_learner(name, estimator, random_state=0)
    assert clone(learner).get_params().keys() == learner.get_params().keys()
    uplift = learner.fit(X, y, t).predict(X)
    assert uplift.shape == (len(X),) and np.isfinite(uplift).all()
    outcomes = predict_outcomes(learner, X)
    if name == "class-transform":
        assert outcomes is None
    else:
        assert all(o.shape == (len(X),) and (0 <= o).all() and (o <= 1).all() for o in outcomes)
        assert not hasattr(learner, "trmnt_preds_")  # nothing large left on the model to be saved


def test_unknown_names():
    with pytest.raises(UnknownNameError, match="unknown uplift learner 'y'"):
        make_learner("y")
    with pytest.raises(UnknownNameError, match="unknown base estimator 'forest'"):
        base_estimator("forest", 0)


def test_x_learner_needs_both_arms_and_finds_the_effect():
    X, y, t = small(4_000)
    with pytest.raises(InvalidInputError, match="both treated and control"):
        make_learner("x").fit(X, y, np.ones_like(t))
    learner = XLearner(*(base_estimator("logistic", 0, regressor=r) for r in (False, False, True, True)))
    uplift = learner.fit(X, y, t).predict(X)
    assert uplift[X[:, 0] > 0.5].mean() > 0.2 > 0.05 > abs(uplift[X[:, 0] < -0.5].mean())
    assert learner.propensity_ == pytest.approx(t.mean())


@pytest.mark.parametrize(("learner", "estimator"), [("s", "hgb"), ("t", "hgb"), ("x", "hgb"),
                                                    ("class-transform", "hgb"), ("t", "logistic")])
def test_qini_reaches_70_percent_of_the_oracle_and_beats_a_response_model(train_test, learner, estimator):
    train, test = train_test
    model = fit_campaign(train, treatment="treatment", outcome="outcome", learner=learner, estimator=estimator,
                         validation=0, seed=0)
    held_out = read_campaign(test, "treatment", "outcome")
    result = evaluate(held_out.y, model.predict(test), held_out.treatment, held_out.true_uplift)
    training = read_campaign(train, "treatment", "outcome")
    response = base_estimator(estimator, 0).fit(model.encoder_.transform(train), training.y)
    baseline = evaluate(held_out.y, response.predict_proba(model.encoder_.transform(test))[:, 1],
                        held_out.treatment)
    assert result.oracle_qini_coefficient > 0.1
    assert result.qini_coefficient >= 0.7 * result.oracle_qini_coefficient
    assert result.qini_coefficient > baseline.qini_coefficient + 0.05
    assert result.uplift_at[0.3] > baseline.uplift_at[0.3]


def test_uplift_model_follows_the_contract(train_test):
    train, _ = train_test
    model = UpliftModel("s", numeric=["age", "data_gb"], random_state=3)
    assert model.get_params() == {"learner": "s", "estimator": "hgb", "numeric": ["age", "data_gb"],
                                  "categorical": None, "random_state": 3}
    campaign = read_campaign(train, "treatment", "outcome")
    assert model.fit(train, campaign.y, campaign.treatment) is model
    assert model.feature_names == ["age", "data_gb"]
    with pytest.raises(InvalidInputError, match="rows but"):
        UpliftModel().fit(train, campaign.y[:10], campaign.treatment)
