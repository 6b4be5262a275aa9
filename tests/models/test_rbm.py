"""Bernoulli RBM and deep belief net: CD-1 against a hand computation, free energy and
exact likelihood by enumeration, pseudo-likelihood against scikit-learn, the DBN unroll."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet import models, nn, optim, training
from glassnet.models.rbm import BernoulliRBM, DeepBeliefNet, gibbs_chains


class FixedUniform:
    """Returns the given uniform draws in order (makes the sampling deterministic)."""

    def __init__(self, *draws):
        self.draws = [np.asarray(d, dtype=float) for d in draws]

    def random(self, shape):
        d = self.draws.pop(0)
        assert d.shape == tuple(shape)
        return d


def tiny(dtype=np.float64):
    gn.manual_seed(0)
    rbm = BernoulliRBM(3, 2).to_dtype(dtype)
    rbm.weight._data[...] = [[0.5, -1.0, 0.25], [-0.3, 0.8, 1.2]]
    rbm.visible_bias._data[...] = [0.1, -0.2, 0.3]
    rbm.hidden_bias._data[...] = [-0.4, 0.6]
    return rbm


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def test_cd1_equals_a_hand_computation():
    rbm = tiny()
    v0 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    u_h0 = np.array([[0.2, 0.9], [0.7, 0.1]])           # draws for h0 ~ p(h|v0)
    u_v1 = np.array([[0.3, 0.1, 0.7], [0.9, 0.2, 0.4]])  # for v1 ~ p(v|h0)
    u_h1 = np.array([[0.5, 0.5], [0.5, 0.5]])           # for h1 (its probabilities are used)
    rbm.contrastive_divergence(v0, k=1, rng=FixedUniform(u_h0, u_v1, u_h1))
    # by hand: W = [[.5,-1,.25],[-.3,.8,1.2]], b = [.1,-.2,.3], c = [-.4,.6]
    # sample 1: v=(1,0,1): pre-activations h: .5+.25-.4 = .35, -.3+1.2+.6 = 1.5
    # sample 2: v=(0,1,1): -1+.25-.4 = -1.15, .8+1.2+.6 = 2.6
    ph0 = np.array([[sig(0.35), sig(1.5)], [sig(-1.15), sig(2.6)]])
    h0 = (u_h0 < ph0).astype(float)
    assert h0.tolist() == [[1, 0], [0, 1]]               # sig(.35)=.587, sig(1.5)=.818 ...
    # v1 | h0=(1,0): b + W[0] = (.6, -1.2, .55); v1 | h0=(0,1): b + W[1] = (-.2, .6, 1.5)
    pv1 = np.array([[sig(0.6), sig(-1.2), sig(0.55)], [sig(-0.2), sig(0.6), sig(1.5)]])
    v1 = (u_v1 < pv1).astype(float)
    pre1 = v1 @ np.array([[0.5, -1.0, 0.25], [-0.3, 0.8, 1.2]]).T + np.array([-0.4, 0.6])
    ph1 = sig(pre1)
    dW = -(ph0.T @ v0 - ph1.T @ v1) / 2
    db = -(v0 - v1).mean(0)
    dc = -(ph0 - ph1).mean(0)
    np.testing.assert_allclose(rbm.weight.grad.numpy(), dW, rtol=1e-12)
    np.testing.assert_allclose(rbm.visible_bias.grad.numpy(), db, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(rbm.hidden_bias.grad.numpy(), dc, rtol=1e-12)
    # v1 written out: sig(.6)=.646>.3 -> 1, sig(-1.2)=.231>.1 -> 1, sig(.55)=.634<.7 -> 0;
    # sig(-.2)=.450<.9 -> 0, sig(.6)=.646>.2 -> 1, sig(1.5)=.818>.4 -> 1
    assert v1.tolist() == [[1, 1, 0], [0, 1, 1]]
    # visible bias: -mean(v0 - v1) = -([0, -1, 1] + [0, 0, 0]) / 2
    np.testing.assert_allclose(rbm.visible_bias.grad.numpy(), [0.0, 0.5, -0.5], atol=1e-15)
    # h1 | v1=(1,1,0): .5-1-.4 = -.9, -.3+.8+.6 = 1.1; v1=(0,1,1) as v0 row 2: -1.15, 2.6
    ph1_hand = np.array([[sig(-0.9), sig(1.1)], [sig(-1.15), sig(2.6)]])
    np.testing.assert_allclose(ph1, ph1_hand, rtol=1e-12)
    # one weight entry in full: dW[0, 1] = -(ph0[:, 0].v0[:, 1] - ph1[:, 0].v1[:, 1]) / 2
    w01 = -((sig(0.35) * 0 + sig(-1.15) * 1) - (sig(-0.9) * 1 + sig(-1.15) * 1)) / 2
    np.testing.assert_allclose(rbm.weight.grad.numpy()[0, 1], w01, rtol=1e-12)


def test_sgd_step_applies_the_cd_gradient():
    rbm = tiny()
    W0 = rbm.W.copy()
    opt = optim.SGD(rbm.parameters(), lr=0.1)
    rbm.contrastive_divergence(np.array([[1.0, 0.0, 1.0]]), rng=np.random.default_rng(0))
    g = rbm.weight.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(rbm.W, W0 - 0.1 * g)


def test_free_energy_equals_brute_force():
    rbm = tiny()
    V, H = all_states(3), all_states(2)
    E = np.array([[rbm.energy(v[None], h[None])[0] for h in H] for v in V])
    # energy by its formula, independently
    W, b, c = rbm.W, rbm.b, rbm.c
    E2 = -(V @ b)[:, None] - (H @ c)[None, :] - V @ W.T @ H.T
    np.testing.assert_allclose(E, E2, rtol=1e-12)
    F = -np.log(np.exp(-E2).sum(axis=1))
    np.testing.assert_allclose(rbm.free_energy(V), F, rtol=1e-12)


def exact_log_likelihood(rbm, X):
    V = all_states(rbm.n_visible)
    logZ = np.logaddexp.reduce(-rbm.free_energy(V))
    return float((-rbm.free_energy(X) - logZ).mean())


@pytest.mark.parametrize("persistent", [False, True])
def test_exact_log_likelihood_increases_under_cd(persistent):
    gn.manual_seed(1)
    rbm = BernoulliRBM(6, 4).to_dtype(np.float64)
    protos = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], float)
    rng = np.random.default_rng(0)
    X = protos[rng.integers(0, 2, 200)]
    flip = rng.random(X.shape) < 0.05
    X = np.abs(X - flip)
    before = exact_log_likelihood(rbm, X)
    rbm.fit(X, epochs=30, batch_size=20, lr=0.1, k=1, persistent=persistent, seed=0)
    after = exact_log_likelihood(rbm, X)
    assert before < -6 * np.log(2) + 0.01       # near uniform at the start
    assert after > before + 0.7, (before, after)   # measured: CD +1.5, PCD +0.95


def test_pseudo_likelihood_matches_sklearn():
    sk = pytest.importorskip("sklearn.neural_network")
    rbm = tiny()
    rng = np.random.default_rng(3)
    X = (rng.random((50, 3)) > 0.5).astype(float)
    s = sk.BernoulliRBM(n_components=2, random_state=7)
    s.components_ = rbm.W.copy()
    s.intercept_hidden_ = rbm.c.copy()
    s.intercept_visible_ = rbm.b.copy()
    s.n_features_in_ = 3
    idx = np.random.RandomState(7).randint(0, 3, 50)   # the draws sklearn makes
    np.testing.assert_allclose(rbm.pseudo_likelihood(X, index=idx), s.score_samples(X),
                               rtol=1e-10)
    np.testing.assert_allclose(rbm.free_energy(X), s._free_energy(X), rtol=1e-10)


def test_pseudo_likelihood_is_exact_conditional_for_the_flipped_unit():
    rbm = tiny()
    X = all_states(3)
    for i in range(3):
        pl = rbm.pseudo_likelihood(X, index=np.full(8, i))
        # log p(v_i | v_-i) by enumeration of the two values of v_i
        X1 = X.copy()
        X1[:, i] = 1 - X1[:, i]
        lp = -rbm.free_energy(X) - np.logaddexp(-rbm.free_energy(X), -rbm.free_energy(X1))
        np.testing.assert_allclose(pl, 3 * lp, rtol=1e-10)


def test_pseudo_likelihood_and_reconstruction_improve_on_digits():
    X, _ = gn.data.load_digits()
    X = (X / 16.0).astype(np.float32)
    gn.manual_seed(0)
    rbm = BernoulliRBM(64, 32)
    h = rbm.fit(X, epochs=8, batch_size=20, lr=0.05, seed=0, validation=X[:300])
    assert h["recon"][-1] < 0.8 * h["recon"][0]
    assert np.mean(h["pseudo_likelihood"][-3:]) > h["pseudo_likelihood"][0] + 1.0
    assert set(h.history) >= {"val_recon", "val_pseudo_likelihood", "free_energy_gap"}
    assert rbm.reconstruction_error(X).shape == (len(X),)


def test_bad_input_names_the_argument():
    rbm = BernoulliRBM(4, 2)
    with pytest.raises(ValueError, match="prob_h.*\\(N, 4\\)"):
        rbm.prob_h(np.ones((2, 5)))
    with pytest.raises(ValueError, match="\\[0, 1\\]"):
        rbm.fit(np.full((3, 4), 2.0), epochs=1)
    with pytest.raises(ValueError, match="index"):
        rbm.pseudo_likelihood(np.ones((2, 4)), index=np.array([0, 9]))
    with pytest.raises(ValueError, match="n_hidden"):
        BernoulliRBM(4, 0)


def test_gibbs_is_seeded_and_binary():
    rbm = tiny()
    v = np.ones((5, 3))
    a = rbm.gibbs(v, 3, np.random.default_rng(0))
    b = rbm.gibbs(v, 3, np.random.default_rng(0))
    assert np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 1.0}
    gn.manual_seed(4)
    c = rbm.gibbs(v, 3)
    gn.manual_seed(4)
    assert np.array_equal(c, rbm.gibbs(v, 3))
    ch = gibbs_chains(rbm, v, steps=(0, 1, 5), seed=0)
    assert ch.shape == (5, 3, 3) and np.array_equal(ch[:, 0], v)


def test_save_and_load_without_pickle(tmp_path):
    gn.manual_seed(0)
    dbn = DeepBeliefNet([8, 4, 3])
    gn.io.save(dbn, tmp_path / "dbn.safetensors")
    back = gn.io.load(tmp_path / "dbn.safetensors")
    X = np.random.default_rng(0).random((4, 8)).astype(np.float32)
    np.testing.assert_allclose(back.transform(X), dbn.transform(X))


def test_dbn_unroll_gives_the_stack_hidden_probabilities():
    gn.manual_seed(0)
    dbn = DeepBeliefNet([64, 20, 12])
    X, _ = gn.data.load_digits()
    X = (X / 16.0).astype(np.float32)
    dbn.pretrain(X[:300], epochs=1, batch_size=50, lr=0.05, seed=0)
    clf = dbn.to_classifier(10)
    body = nn.Sequential(*list(clf)[:-1])
    with gn.no_grad():
        out = body(gn.tensor(X[:50])).numpy()
    np.testing.assert_allclose(out, dbn.transform(X[:50]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        nn.Sequential(*list(clf)[:2])(gn.tensor(X[:5])).detach().numpy(),
        dbn.rbms[0].prob_h(X[:5]), rtol=1e-5, atol=1e-6)


def test_short_dbn_on_digits_classifies():
    X, y = gn.data.load_digits()
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    tr, te = order[:1400], order[1400:]
    gn.manual_seed(0)
    dbn = DeepBeliefNet([64, 100, 100])
    hists = dbn.pretrain(X[tr], epochs=10, batch_size=20, lr=0.05, momentum=0.9, seed=0)
    assert len(hists) == 2 and all(h["recon"][-1] < h["recon"][0] for h in hists)
    clf = dbn.to_classifier(10)
    trainer = training.Trainer(clf, nn.CrossEntropyLoss(),
                               optim.SGD(clf.parameters(), lr=0.1, momentum=0.9),
                               metrics=["accuracy"])
    trainer.fit((X[tr], y[tr]), epochs=15, batch_size=32, seed=0)
    acc = trainer.evaluate((X[te], y[te]))["accuracy"]
    assert acc > 0.93, acc


class CountingRng:
    """np.random.Generator that counts its calls to random()."""

    def __init__(self, seed):
        self.g = np.random.default_rng(seed)
        self.calls = 0

    def random(self, shape):
        self.calls += 1
        return self.g.random(shape)


def test_gibbs_chains_run_exactly_the_requested_steps(monkeypatch):
    rbm = tiny()
    r = CountingRng(0)
    monkeypatch.setattr(gn.models.rbm.np.random, "default_rng", lambda seed=None: r)
    gibbs_chains(rbm, np.ones((2, 3)), steps=(0, 1, 10, 25), seed=0)
    assert r.calls == 2 * 25            # one h draw and one v draw per Gibbs step
    with pytest.raises(ValueError, match="steps must increase"):
        gibbs_chains(rbm, np.ones((2, 3)), steps=(0, 3, 3), seed=0)


def test_pcd_chains_survive_a_smaller_last_batch():
    rbm = tiny()
    rng = np.random.default_rng(0)
    rbm.contrastive_divergence(np.ones((4, 3)), persistent=True, rng=rng)
    chain = rbm.chain_.copy()
    assert chain.shape == (4, 3)
    # a 1-row batch: the 4 chains carry on (negative phase over 4 chains, positive over 1)
    rbm.contrastive_divergence(np.zeros((1, 3)), persistent=True, rng=rng)
    assert rbm.chain_.shape == (4, 3)
    # gradient of the visible bias: -(mean v0 - mean over chains)
    np.testing.assert_allclose(rbm.visible_bias.grad.numpy(), rbm.chain_.mean(axis=0))
