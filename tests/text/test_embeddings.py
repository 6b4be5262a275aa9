"""text.embeddings: the GloVe text format (read, load into a Vocabulary + Embedding with
freeze and unknown-word options, write back), cosine nearest neighbours, the PCA
projection and its picture."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError, DataFileError
from glassnet.text import (Vocabulary, load_glove, nearest_neighbors, plot_embeddings,
                           project_2d, read_glove, save_glove)

GLOVE = """king 0.9 0.8 0.1 0.0
queen 0.85 0.9 0.15 0.05
man 0.7 0.1 0.0 0.1
woman 0.65 0.2 0.05 0.15
apple -0.5 0.0 0.9 0.8
pear -0.45 0.05 0.85 0.9
, 0.0 0.0 0.0 -1.0
"""


@pytest.fixture
def glove(tmp_path):
    p = tmp_path / "tiny.txt"
    p.write_text(GLOVE, encoding="utf-8")
    return p


def test_read_glove_parses_words_and_vectors(glove, tmp_path):
    words, m = read_glove(glove)
    assert words == ["king", "queen", "man", "woman", "apple", "pear", ","]
    assert m.shape == (7, 4) and m.dtype == np.float32
    np.testing.assert_allclose(m[1], [0.85, 0.9, 0.15, 0.05], rtol=1e-6)
    assert read_glove(glove, max_words=2)[0] == ["king", "queen"]
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("2 4\n" + "".join(GLOVE.splitlines(True)[:2]))   # word2vec header skipped
    assert read_glove(w2v)[0] == ["king", "queen"]
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(DataFileError, match="'b' .* 2 numbers, expected 3"):
        read_glove(bad)
    bad.write_text("a 1 x\n")
    with pytest.raises(DataFileError, match="not a number"):
        read_glove(bad)


def test_load_glove_builds_vocabulary_and_frozen_embedding(glove):
    v, emb = load_glove(glove)
    assert v.itos[:3] == ["<pad>", "<unk>", "king"] and len(v) == 9
    assert isinstance(emb, gn.nn.Embedding) and emb.weight.shape == (9, 4)
    assert not emb.weight.requires_grad and emb.padding_idx == 0
    np.testing.assert_allclose(emb(np.array([v["queen"]])).numpy()[0], [0.85, 0.9, 0.15, 0.05],
                               rtol=1e-6)
    np.testing.assert_array_equal(emb.weight.numpy()[0], 0)          # padding row
    _, trainable = load_glove(glove, freeze=False)
    assert trainable.weight.requires_grad


@pytest.mark.parametrize("unknown", ["random", "zero"])
def test_load_glove_into_a_given_vocabulary(glove, unknown):
    mine = Vocabulary(["queen", "dragon", "pear"])
    v, emb = load_glove(glove, vocab=mine, unknown=unknown)
    assert v is mine
    w = emb.weight.numpy()
    _, m = read_glove(glove)
    np.testing.assert_allclose(w[mine["queen"]], m[1])
    np.testing.assert_allclose(w[mine["pear"]], m[5])
    np.testing.assert_array_equal(w[0], 0)
    dragon = w[mine["dragon"]]
    if unknown == "zero":
        np.testing.assert_array_equal(dragon, 0)
    else:
        assert np.abs(dragon).sum() > 0 and np.abs(dragon).max() < 6 * m.std()
    with pytest.raises(ArgumentError, match="unknown"):
        load_glove(glove, vocab=mine, unknown="mean")


def test_save_glove_round_trips(glove, tmp_path):
    v, emb = load_glove(glove)
    out = tmp_path / "out.txt"
    save_glove(out, v, emb)
    words, m = read_glove(out)
    assert words == v.itos[2:]
    np.testing.assert_allclose(m, emb.weight.numpy()[2:], rtol=1e-5)


def test_nearest_neighbors_by_cosine(glove):
    v, emb = load_glove(glove)
    near = nearest_neighbors("king", v, emb, k=3)
    assert [w for w, _ in near] == ["queen", "woman", "man"]
    W = emb.weight.numpy().astype(np.float64)
    brute = sorted(((float(W[v["king"]] @ W[i] / np.linalg.norm(W[v["king"]]) / np.linalg.norm(W[i])), t)
                    for i, t in enumerate(v.itos) if i >= 2 and t != "king"), reverse=True)
    assert [t for _, t in brute[:3]] == ["queen", "woman", "man"]
    a, b = W[v["king"]], W[v["queen"]]
    assert near[0][1] == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert all(x[1] >= y[1] for x, y in zip(near, near[1:]))
    both = nearest_neighbors(["apple", "woman"], v, emb, k=1)
    assert [n[0][0] for n in both] == ["pear", "man"]
    by_vector = nearest_neighbors(W[v["apple"]], v, emb, k=2)
    assert [w for w, _ in by_vector] == ["apple", "pear"]       # a vector keeps its own word
    assert len(nearest_neighbors("king", v, emb, k=50)) == 6     # all but itself and specials
    with pytest.raises(ArgumentError, match="not in the vocabulary"):
        nearest_neighbors("dragon", v, emb)


def test_project_2d_is_pca_and_the_picture_is_drawn(glove, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 5)) * [5, 2, 0.1, 0.1, 0.1] + 3
    P = project_2d(X)
    # the same as projecting the centred data on the top-2 eigenvectors of its covariance
    Xc = X - X.mean(0)
    evals, evecs = np.linalg.eigh(Xc.T @ Xc)
    ref = Xc @ evecs[:, ::-1][:, :2]
    np.testing.assert_allclose(np.abs(P), np.abs(ref), atol=1e-9)
    assert P[:, 0].var() > P[:, 1].var()
    pytest.importorskip("matplotlib")
    v, emb = load_glove(glove)
    path = tmp_path / "words.png"
    fig = plot_embeddings(["king", "queen", "apple", "pear"], v, emb, path=path)
    assert path.stat().st_size > 1000
    assert [t.get_text() for t in fig.axes[0].texts] == ["king", "queen", "apple", "pear"]
    with pytest.raises(ArgumentError, match="project_2d"):
        project_2d(np.ones((1, 3)))
