"""text.cnn: the CNN for text (Conv1d over the word vectors, max over time, padding left
out of the maximum) learning a class that depends on a word pair anywhere in the sentence."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError
from glassnet.text import TextCNN

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def test_padding_does_not_change_a_sentence_and_short_sentences_work():
    gn.manual_seed(0)
    cnn = TextCNN(20, 3, embedding_dim=6, widths=(2, 3), channels=5)
    alone = cnn(np.array([[4, 5, 6]])).numpy()
    padded = cnn(np.array([[4, 5, 6, 0, 0, 0], [1, 2, 3, 4, 5, 6]]), lengths=[3, 6]).numpy()
    np.testing.assert_allclose(padded[0], alone[0], rtol=1e-5, atol=1e-6)
    short = cnn(np.array([[7]]))                  # shorter than the widest filter
    assert short.shape == (1, 3) and np.isfinite(short.numpy()).all()
    v = cnn.sentence_vectors(np.array([[4, 5, 6]]))
    assert v.shape == (1, 10) and (v.numpy() >= 0).all()      # ReLU then max
    with pytest.raises(ArgumentError, match="widths"):
        TextCNN(20, 3, widths=())
    with pytest.raises(ArgumentError, match="integer ids"):
        cnn(np.ones((2, 3)))


def test_max_pooling_is_the_max_of_the_filter_responses_over_time():
    gn.manual_seed(1)
    cnn = TextCNN(10, 2, embedding_dim=3, widths=(2,), channels=4)
    ids = np.array([[1, 2, 3, 4]])
    E = cnn.embedding.weight.numpy()[ids[0]]                 # (T, E)
    W, b = cnn.convs[0].weight.numpy(), cnn.convs[0].bias.numpy()   # (C, E, 2), (C,)
    resp = np.stack([np.einsum("cek,ke->c", W, E[t:t + 2]) + b
                     for t in range(3)])                     # (T - 1, C)
    want = np.maximum(resp, 0).max(0)
    np.testing.assert_allclose(cnn.sentence_vectors(ids).numpy()[0], want, rtol=1e-5, atol=1e-6)


def _task(rng, n, T=12):
    """Class 1 iff the pair (3, 4) ("not", "good") occurs somewhere in order; 3 and 4 each
    occur alone often, so counting words cannot tell the classes apart."""
    ids = rng.integers(5, 40, (n, T))
    r = rng.random((n, T))
    ids = np.where(r < 0.1, 3, np.where(r < 0.2, 4, ids))
    y = rng.random(n) < 0.5
    at = rng.integers(0, T - 1, n)
    ids[np.flatnonzero(y), at[y]] = 3
    ids[np.flatnonzero(y), at[y] + 1] = 4
    has = ((ids[:, :-1] == 3) & (ids[:, 1:] == 4)).any(1)
    lengths = np.full(n, T)
    return ids, has.astype(np.int64), lengths


def test_text_cnn_learns_a_word_pair_anywhere():
    rng = np.random.default_rng(0)
    X, y, n = _task(rng, 800)
    Xv, yv, nv = _task(rng, 400)
    gn.manual_seed(0)
    cnn = TextCNN(40, 2, embedding_dim=8, widths=(2, 3), channels=8)
    hist = cnn.fit(X, y, n, epochs=8, batch_size=32, lr=1e-2)
    acc = float(np.mean(cnn.predict(Xv, nv) == yv))
    assert acc > 0.95, acc
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
