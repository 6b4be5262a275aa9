"""Word vectors: the GloVe plain-text format, nearest neighbours, a 2-D picture.

The GloVe text format is one word per line followed by its vector, separated by
spaces (``the 0.418 0.24968 -0.41242 ...``); word2vec's text format is the same with a
first line ``<count> <dim>``, which :func:`load_glove` skips. A loaded table becomes a
:class:`~glassnet.text.Vocabulary` and an ``nn.Embedding`` (frozen by default), so
pretrained vectors drop into any model here in place of a trainable embedding.
"""
from __future__ import annotations

import os
from typing import Any, Sequence, Union

import numpy as np

from .. import backend, nn
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError, DataFileError
from ..validation import check_choice, check_int
from .vocab import Vocabulary

__all__ = ["read_glove", "load_glove", "save_glove", "nearest_neighbors", "project_2d",
           "plot_embeddings"]

PathLike = Union[str, "os.PathLike[str]"]


def read_glove(path: PathLike, max_words: int | None = None,
               dtype: Any = np.float32) -> tuple[list[str], np.ndarray]:
    """The words and the (n, d) matrix of a GloVe-format text file (the first
    ``max_words`` lines when given). A line whose vector length differs from the first
    line's, or a value that is not a number, raises :class:`DataFileError` naming the line.

    The numbers are parsed in one call over the whole file, not line by line.
    """
    who = "read_glove"
    if max_words is not None:
        max_words = check_int(max_words, "max_words", who, min=1)
    words: list[str] = []
    rests: list[str] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r").strip(" ")
            if not line:
                continue
            word, _, rest = line.partition(" ")
            if lineno == 1 and word.isdigit() and rest.strip().isdigit():
                continue                       # word2vec header "<count> <dim>"
            words.append(word)
            rests.append(rest)
            if max_words is not None and len(words) == max_words:
                break
    if not words:
        raise DataFileError(f"{who}: {path} holds no vectors")
    widths = np.fromiter((len(r.split()) for r in rests), np.int64, count=len(rests))
    d = int(widths[0])
    bad = np.flatnonzero(widths != d)
    if d == 0 or len(bad):
        i = int(bad[0]) if len(bad) else 0
        raise DataFileError(f"{who}: {path}: the vector of {words[i]!r} (entry {i + 1}) has "
                            f"{int(widths[i])} numbers, expected {d if d else 'at least 1'}")
    try:
        matrix = np.array(" ".join(rests).split(), dtype=dtype).reshape(len(words), d)
    except ValueError as e:
        raise DataFileError(f"{who}: {path}: a vector holds a value that is not a number "
                            f"({e})") from None
    if len(set(words)) != len(words):
        raise DataFileError(f"{who}: {path}: a word appears twice")
    return words, matrix


def load_glove(path: PathLike, vocab: Vocabulary | None = None, freeze: bool = True,
               unknown: str = "random", max_words: int | None = None, seed: int | None = 0,
               pad_token: str | None = "<pad>", unk_token: str | None = "<unk>",
               specials: Sequence[str] = ()) -> tuple[Vocabulary, nn.Embedding]:
    """A vocabulary and an ``nn.Embedding`` holding the vectors of a GloVe-format file.

    Without ``vocab``, the vocabulary is the file's words (in file order) after the
    special tokens. With ``vocab``, the embedding has one row per token of that
    vocabulary: the file's vector where the file has the word, else (``unknown``)
    ``"random"`` N(0, s^2) with s the standard deviation of the file's values, or
    ``"zero"``. The padding row is always zero. ``freeze=True`` keeps the vectors out of
    training (``weight.requires_grad`` is False), as ``nn.Embedding.from_pretrained``.

    Returns ``(vocab, embedding)``.
    """
    who = "load_glove"
    check_choice(unknown, "unknown", who, ("random", "zero"))
    if vocab is not None and not isinstance(vocab, Vocabulary):
        raise ArgumentTypeError(f"{who}: vocab must be a Vocabulary or None, got "
                                f"{type(vocab).__name__}")
    words, matrix = read_glove(path, max_words)
    if vocab is None:
        clash = set(words) & {t for t in (pad_token, unk_token, *specials) if t is not None}
        if clash:
            raise DataFileError(f"{who}: the file holds the special token(s) {sorted(clash)}; "
                                f"choose other pad_token / unk_token / specials")
        vocab = Vocabulary(words, pad_token, unk_token, specials)
    d = matrix.shape[1]
    rng = np.random.default_rng(seed) if seed is not None else backend.rng()
    if unknown == "random":
        weights = (rng.standard_normal((len(vocab), d)) * float(matrix.std())).astype(matrix.dtype)
    else:
        weights = np.zeros((len(vocab), d), dtype=matrix.dtype)
    file_index = {w: i for i, w in enumerate(words)}
    rows = np.array([file_index.get(t, -1) for t in vocab.itos])
    found = rows >= 0
    weights[found] = matrix[rows[found]]
    if vocab.pad_id is not None:
        weights[vocab.pad_id] = 0
    emb = nn.Embedding.from_pretrained(weights, freeze=freeze, padding_idx=vocab.pad_id)
    return vocab, emb


def _weights(embedding: Any) -> np.ndarray:
    if isinstance(embedding, nn.Embedding):
        return embedding.weight.numpy()
    if isinstance(embedding, Tensor):
        return embedding.numpy()
    w = np.asarray(embedding)
    if w.ndim != 2:
        raise ArgumentError(f"embedding must be an nn.Embedding or a 2-D (V, d) matrix, got "
                            f"shape {w.shape}")
    return w


def save_glove(path: PathLike, vocab: Vocabulary, embedding: Any,
               skip_special: bool = True) -> None:
    """Write the vectors as GloVe text (one ``word v1 v2 ...`` line per token; the special
    tokens left out by default)."""
    w = _weights(embedding)
    if w.shape[0] != len(vocab):
        raise ArgumentError(f"save_glove: {w.shape[0]} vectors for a vocabulary of {len(vocab)}")
    skip = set(vocab.special_ids()) if skip_special else set()
    with open(path, "w", encoding="utf-8") as f:
        for i, word in enumerate(vocab.itos):
            if i not in skip:
                f.write(word + " " + " ".join(f"{x:.6g}" for x in w[i]) + "\n")


def nearest_neighbors(query: str | Sequence[str] | Any, vocab: Vocabulary, embedding: Any,
                      k: int = 5, exclude_special: bool = True
                      ) -> list[tuple[str, float]] | list[list[tuple[str, float]]]:
    """The ``k`` tokens whose vectors have the highest cosine similarity
    cos(u, v) = u.v / (|u| |v|) with the query's, best first, as ``(token, cosine)``.

    ``query``: a token (the token itself is left out of its neighbours), a list of tokens
    (one list of neighbours each), or a vector (d,). All similarities come from one
    matrix product; the top k from ``argpartition``.

    >>> v = Vocabulary(["king", "queen", "apple"], pad_token=None, unk_token=None)
    >>> w = np.array([[1.0, 0.1], [0.9, 0.2], [-0.1, 1.0]])
    >>> [(t, round(c, 3)) for t, c in nearest_neighbors("king", v, w, k=2)]
    [('queen', 0.993), ('apple', 0.0)]
    """
    who = "nearest_neighbors"
    W = _weights(embedding).astype(np.float64)
    if W.shape[0] != len(vocab):
        raise ArgumentError(f"{who}: {W.shape[0]} vectors for a vocabulary of {len(vocab)}")
    single = isinstance(query, str)
    if single or (isinstance(query, (list, tuple)) and query and isinstance(query[0], str)):
        tokens: list[str] = [str(q) for q in ([query] if single else list(query))]
        missing = [t for t in tokens if t not in vocab]
        if missing:
            raise ArgumentError(f"{who}: {missing} not in the vocabulary")
        own = np.array([vocab.stoi[t] for t in tokens])
        Q = W[own]
    else:
        Q = np.atleast_2d(np.asarray(query.numpy() if isinstance(query, Tensor) else query,
                                     dtype=np.float64))
        if Q.ndim != 2 or Q.shape[1] != W.shape[1]:
            raise ArgumentError(f"{who}: a query vector must have {W.shape[1]} values, got "
                                f"shape {np.shape(query)}")
        own = None
        single = np.ndim(query) == 1
    k = check_int(k, "k", who, min=1)
    norms = np.linalg.norm(W, axis=1)
    cos = (Q @ W.T) / np.maximum(np.linalg.norm(Q, axis=1)[:, None] * norms[None, :], 1e-12)
    if exclude_special and vocab.special_ids():
        cos[:, vocab.special_ids()] = -np.inf
    if own is not None:
        cos[np.arange(len(own)), own] = -np.inf
    k = min(k, int(np.isfinite(cos[0]).sum()))
    top = np.argpartition(-cos, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(cos, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    out = [[(vocab.itos[j], float(cos[r, j])) for j in row] for r, row in enumerate(top)]
    return out[0] if single else out


def project_2d(vectors: Any) -> np.ndarray:
    """Principal-component projection of (n, d) vectors onto their first two axes:
    centre X, take its SVD X = U S V^T, return X V[:, :2] = U[:, :2] S[:2] (n, 2).

    >>> project_2d(np.array([[0.0, 0, 5], [2, 0, 5], [4, 0, 5]])).round(6).tolist()
    [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]]
    """
    X = np.asarray(vectors.numpy() if isinstance(vectors, Tensor) else vectors, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 2:
        raise ArgumentError(f"project_2d: vectors must be (n, d) with n >= 2 and d >= 2, got "
                            f"shape {X.shape}")
    Xc = X - X.mean(axis=0)
    U, S, _ = np.linalg.svd(Xc, full_matrices=False)
    return U[:, :2] * S[:2]


def plot_embeddings(words: Sequence[str], vocab: Vocabulary, embedding: Any, ax: Any = None,
                    path: PathLike | None = None, title: str | None = None) -> Any:
    """A scatter of the chosen words' vectors projected to 2-D (:func:`project_2d`), each
    point labelled with its word; saved to ``path`` when given. Returns the matplotlib
    Figure.
    """
    from matplotlib.figure import Figure   # not pyplot: no global figure, no backend chosen

    missing = [w for w in words if w not in vocab]
    if missing:
        raise ArgumentError(f"plot_embeddings: {missing} not in the vocabulary")
    W = _weights(embedding)
    xy = project_2d(W[[vocab.stoi[w] for w in words]])
    if ax is None:
        fig = Figure(figsize=(6, 5))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.scatter(xy[:, 0], xy[:, 1], s=18, color="tab:blue")
    for (x, y), w in zip(xy, words):
        ax.annotate(w, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=9)
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(title or f"{len(words)} word vectors (PCA)")
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig
