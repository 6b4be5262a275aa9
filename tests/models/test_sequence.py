"""models.sequence: the many-to-one SequenceClassifier (variable lengths, tokens, bidirectional)."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import optim
from glassnet.functional import losses as L
from glassnet.models import SequenceClassifier

# small GEMMs: one BLAS thread (the fixture's docstring in tests/conftest.py says why)
pytestmark = pytest.mark.usefixtures("one_blas_thread")


# ------------------------------------------------------------- many-to-one
def test_sequence_classifier_learns_sign_of_sum_with_lengths():
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 12, 1)).astype(np.float32)
    lengths = rng.integers(3, 13, size=256)
    for n, Ln in enumerate(lengths):
        X[n, Ln:] = 5.0                    # padding that would flip the label if read
    y = np.array([int(X[n, :Ln].sum() > 0) for n, Ln in enumerate(lengths)])
    clf = SequenceClassifier(1, 16, 2, cell="gru")
    opt = optim.Adam(clf.parameters(), lr=0.02)
    for _ in range(60):
        loss = L.cross_entropy(clf(X, lengths=lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert np.mean(clf.predict(X, lengths=lengths) == y) > 0.9


def test_sequence_classifier_with_tokens_and_bidirectional():
    clf = SequenceClassifier(None, 8, 3, vocab_size=20, embedding_dim=4, bidirectional=True,
                             num_layers=2)
    out = clf(np.random.default_rng(0).integers(0, 20, size=(5, 7)))
    assert out.shape == (5, 3)
