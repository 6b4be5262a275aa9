"""Word-level language models that score sentences.

A language model gives the probability of a sentence as the product of each word's
probability given the words before it,

    log p(w_1 .. w_n) = sum_{t=1}^{n+1} log p(w_t | <bos>, w_1 .. w_{t-1}),   w_{n+1} = <eos>,

so ``lm.log_prob("the cat is small") > lm.log_prob("small the cat is")`` asks whether the
model prefers the first word order. ``perplexity`` is exp of the mean negative log
probability per predicted token (words and the end marker). Two architectures share that
interface: :class:`WordLSTMLM` (Embedding -> LSTM -> Linear) and
:class:`WordTransformerLM` (Embedding + learned positions -> causal TransformerEncoder ->
LayerNorm -> Linear, the pattern of ``models.CharTransformer``).
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Sequence, Union

import numpy as np

from .. import nn, optim
from ..autograd import no_grad
from ..autograd.factories import tensor
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError, ArgumentTypeError
from ..functional import losses as L
from ..models.char_transformer import build_causal_stack, causal_stack_logits
from ..validation import check_int, check_real
from .vocab import Vocabulary

__all__ = ["WordLM", "WordLSTMLM", "WordTransformerLM", "BOS", "EOS"]

BOS, EOS = "<bos>", "<eos>"
Sentence = Union[str, Sequence[str]]


class WordLM(nn.Module):
    """What every word-level language model here shares: sentence batches with
    ``<bos>`` / ``<eos>``, the padded next-word loss, :meth:`log_prob`,
    :meth:`perplexity` and :meth:`fit`. A subclass defines ``forward(ids (N, T)) ->
    logits (N, T, V)`` in which position t sees only positions <= t.

    The vocabulary must have a padding token (its targets are ignored) and the special
    tokens ``"<bos>"`` and ``"<eos>"``; build it with
    ``Vocabulary.build(lines, specials=("<bos>", "<eos>"))``.
    """

    #: the longest input a model reads (``None``: no limit)
    context: int | None = None

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__()
        who = type(self).__name__
        if not isinstance(vocab, Vocabulary):
            raise ArgumentTypeError(f"{who}: vocab must be a glassnet.text.Vocabulary, got "
                                    f"{type(vocab).__name__}")
        missing = [t for t in (BOS, EOS) if t not in vocab]
        if missing or vocab.pad_id is None:
            raise ArgumentError(f"{who}: the vocabulary needs a pad token and the specials "
                                f"{BOS!r} and {EOS!r} (missing: "
                                f"{missing + ([] if vocab.pad_id is not None else ['pad'])}); "
                                f"build it with specials=({BOS!r}, {EOS!r})")
        self.vocab = vocab
        self.vocab_size = len(vocab)
        self.pad_id: int = vocab.pad_id

    # ---------------------------------------------------------------- batches
    def encode_sentences(self, sentences: Iterable[Sentence]) -> tuple[np.ndarray, np.ndarray]:
        """``<bos> w_1 .. w_n <eos>`` id rows, right-padded: ``(ids (N, T+1), lengths (N,))``;
        a sentence longer than the context is refused."""
        rows = [self.vocab.encode(s, BOS, EOS) for s in sentences]
        if self.context is not None:
            longest = max((len(r) - 1 for r in rows), default=0)
            if longest > self.context:
                raise ArgumentError(f"{type(self).__name__}: a sentence of {longest - 1} tokens "
                                    f"(+ <eos>) is longer than context={self.context}")
        ids, lengths = self.vocab.pad(rows)
        return ids.numpy(), lengths.numpy()

    def loss(self, inputs: Any, targets: Any) -> Tensor:
        """Mean cross-entropy (nats per predicted token) of the next-token predictions;
        targets equal to the pad id are left out."""
        logits = self(inputs)
        return L.cross_entropy(logits.reshape(-1, self.vocab_size),
                               tensor(as_array(targets).reshape(-1)), ignore_index=self.pad_id)

    def token_log_probs(self, ids: np.ndarray) -> np.ndarray:
        """log p(ids[:, t+1] | ids[:, :t+1]) for every position, (N, T) float64 (padding
        targets included; mask them with ``ids[:, 1:] != pad``)."""
        was = self.training
        self.eval()
        try:
            with no_grad():
                z = self(ids[:, :-1]).numpy().astype(np.float64)
        finally:
            self.train(was)
        z -= z.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        return np.take_along_axis(logp, ids[:, 1:, None], axis=-1)[..., 0]

    # ---------------------------------------------------------------- scoring
    def log_probs(self, sentences: Iterable[Sentence], batch_size: int = 64) -> np.ndarray:
        """:meth:`log_prob` of each sentence, in batches, as a float64 array (N,)."""
        batch_size = check_int(batch_size, "batch_size", "log_probs", min=1)
        ids, lengths = self.encode_sentences(list(sentences))
        out = np.empty(len(ids))
        for i in range(0, len(ids), batch_size):
            block = ids[i:i + batch_size, :int(lengths[i:i + batch_size].max())]
            lp = self.token_log_probs(block)
            out[i:i + batch_size] = np.where(block[:, 1:] != self.pad_id, lp, 0.0).sum(axis=1)
        return out

    def log_prob(self, sentence: Sentence) -> float:
        """log p(sentence) in nats: the sum of log p(w_t | w_<t) over the words and the end
        marker, the first word conditioned on ``<bos>``; a str is tokenized with the
        vocabulary's tokenizer."""
        if not isinstance(sentence, (str, list, tuple)):
            raise ArgumentTypeError(f"log_prob: sentence must be a str or a list of tokens, got "
                                    f"{type(sentence).__name__}")
        return float(self.log_probs([sentence])[0])

    def perplexity(self, text: str | Iterable[Sentence], batch_size: int = 64) -> float:
        """exp(-sum log p / number of predicted tokens) over the sentences (a str: its
        non-empty lines), each scored with ``<bos>`` / ``<eos>``."""
        sentences = self._sentences(text)
        total = self.log_probs(sentences, batch_size).sum()
        n = sum(len(self.vocab._tokens(s, "perplexity")) + 1 for s in sentences)
        return math.exp(-total / n)

    def _sentences(self, text: str | Iterable[Sentence]) -> list[Sentence]:
        if isinstance(text, str):
            return [line for line in text.splitlines() if self.vocab.tokenizer(line)]
        return list(text)

    # ---------------------------------------------------------------- training
    def fit(self, corpus: str | Iterable[Sentence], steps: int = 1000, batch_size: int = 32,
            lr: float = 3e-3, validation: str | Iterable[Sentence] | None = None,
            eval_every: int | None = None, clip_grad_norm: float | None = 1.0,
            weight_decay: float = 0.0, time_limit: float | None = None, seed: int = 0,
            verbose: int = 0,
            callback: Callable[[int, float], None] | None = None) -> dict[str, list[float]]:
        """Train with AdamW on random batches of sentences (a str: its non-empty lines;
        sentences longer than the context are cut); returns ``{"step", "loss", "val_loss",
        "val_perplexity", "seconds"}``, evaluated every ``eval_every`` steps and at the end.
        ``time_limit`` (seconds) stops early. The batches come from
        ``np.random.default_rng(seed)``."""
        who = "fit"
        steps = check_int(steps, "steps", who, min=1)
        batch_size = check_int(batch_size, "batch_size", who, min=1)
        check_real(lr, "lr", who, 0, low_open=True)
        rows = [self.vocab.encode(s, BOS, EOS) for s in self._sentences(corpus)]
        if self.context is not None:
            rows = [r[:self.context + 1] for r in rows]
        rows = [r for r in rows if len(r) >= 2]
        if not rows:
            raise ArgumentError(f"{who}: the corpus has no sentence")
        ids_t, lengths_t = self.vocab.pad(rows)
        ids, lengths = ids_t.numpy(), lengths_t.numpy()
        val = self._sentences(validation) if validation is not None else None
        opt = optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay)
        rng = np.random.default_rng(seed)
        every = eval_every or steps
        hist: dict[str, list[float]] = {"step": [], "loss": [], "val_loss": [],
                                        "val_perplexity": [], "seconds": []}
        t0 = time.perf_counter()
        self.train()
        for step in range(1, steps + 1):
            pick = rng.integers(0, len(ids), batch_size)
            block = ids[pick, :int(lengths[pick].max())]
            opt.zero_grad()
            loss = self.loss(block[:, :-1], block[:, 1:])
            loss.backward()
            if clip_grad_norm:
                nn.utils.clip_grad_norm_(self.parameters(), clip_grad_norm)
            opt.step()
            value = float(loss.item())
            if callback is not None:
                callback(step, value)
            out_of_time = time_limit is not None and time.perf_counter() - t0 > time_limit
            if step % every == 0 or step == steps or out_of_time:
                ppl = self.perplexity(val) if val else float("nan")
                hist["step"].append(step)
                hist["loss"].append(value)
                hist["val_perplexity"].append(ppl)
                hist["val_loss"].append(math.log(ppl) if val else float("nan"))
                hist["seconds"].append(time.perf_counter() - t0)
                if verbose:
                    print(f"step {step}/{steps}: loss {value:.3f}, val perplexity {ppl:.1f}, "
                          f"{hist['seconds'][-1]:.0f} s", flush=True)
            if out_of_time:
                break
        return hist

    def _check_ids(self, ids: Any) -> np.ndarray:
        a = as_array(ids)
        if a.dtype.kind not in "iu" or a.ndim != 2:
            raise ArgumentError(f"{type(self).__name__}: expected integer ids of shape (N, T), "
                                f"got {a.dtype} {a.shape}")
        return a


class WordLSTMLM(WordLM):
    """``Embedding -> LSTM -> Dropout -> Linear``: logits (N, T, V) of the next word.

    >>> from glassnet.text import Vocabulary
    >>> v = Vocabulary.build(["the cat is small"], specials=("<bos>", "<eos>"))
    >>> lm = WordLSTMLM(v, embedding_dim=8, hidden_size=16)
    >>> tuple(lm(np.array([[2, 4, 5]])).shape)
    (1, 3, 8)
    >>> lm.log_prob("the cat") < 0
    True
    """

    def __init__(self, vocab: Vocabulary, embedding_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1, dropout: float = 0.0) -> None:
        super().__init__(vocab)
        who = "WordLSTMLM"
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", who, min=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", who, min=1)
        self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim, padding_idx=self.pad_id)
        self.lstm = nn.LSTM(self.embedding_dim, self.hidden_size, num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(self.hidden_size, self.vocab_size)

    def forward(self, ids: Any) -> Tensor:
        """Logits (N, T, V) for ids (N, T)."""
        y, _ = self.lstm(self.drop(self.embedding(self._check_ids(ids))))
        return self.head(self.drop(y))


class WordTransformerLM(WordLM):
    """``Embedding + learned positions -> causal TransformerEncoder (pre-norm, GELU)
    -> LayerNorm -> Linear``: logits (N, T, V), T <= ``context``.

    >>> from glassnet.text import Vocabulary
    >>> v = Vocabulary.build(["the cat is small"], specials=("<bos>", "<eos>"))
    >>> lm = WordTransformerLM(v, d_model=16, nhead=2, num_layers=1, context=8)
    >>> tuple(lm(np.array([[2, 4, 5]])).shape)
    (1, 3, 8)
    """

    def __init__(self, vocab: Vocabulary, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 context: int = 64, dim_feedforward: int | None = None, dropout: float = 0.0,
                 activation: str = "gelu") -> None:
        super().__init__(vocab)
        build_causal_stack(self, self.vocab_size, d_model, nhead, num_layers, context,
                           dim_feedforward, dropout, activation, "WordTransformerLM")

    def forward(self, ids: Any) -> Tensor:
        """Logits (N, T, V) for ids (N, T); position t attends to positions 0..t only."""
        a = self._check_ids(ids)
        T = a.shape[1]
        if T > self.context:
            raise ArgumentError(f"WordTransformerLM: {T} tokens are more than "
                                f"context={self.context}")
        return causal_stack_logits(self, a)
