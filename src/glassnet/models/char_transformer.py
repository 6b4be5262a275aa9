"""A character-level Transformer language model (decoder-only, GPT-style)."""
from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np

from .. import backend, nn, optim
from ..autograd import no_grad
from ..autograd.tensor import Tensor, as_array
from ..errors import ArgumentError
from ..functional import losses as L
from ..training.history import History
from ..validation import check_int, check_real

__all__ = ["CharTransformer", "build_causal_stack", "causal_stack_logits"]


def build_causal_stack(m: nn.Module, vocab_size: int, d_model: int, nhead: int,
                       num_layers: int, context: int, dim_feedforward: int | None,
                       dropout: float, activation: str, who: str) -> None:
    """Give ``m`` the submodules of a GPT-style language model: ``tok`` (Embedding V x d),
    ``pos`` (Embedding context x d), ``drop``, ``blocks`` (pre-norm TransformerEncoder),
    ``ln_f`` and ``head`` (Linear d -> V), with GPT-2's N(0, 0.02) for the matrices; sets
    ``m.d_model`` and ``m.context``. Shared by CharTransformer and the word models."""
    m.d_model = check_int(d_model, "d_model", who, min=1)
    m.context = check_int(context, "context", who, min=1)
    m.tok = nn.Embedding(vocab_size, m.d_model)
    m.pos = nn.Embedding(m.context, m.d_model)
    m.drop = nn.Dropout(dropout)
    layer = nn.TransformerEncoderLayer(m.d_model, nhead, dim_feedforward or 4 * m.d_model,
                                       dropout=dropout, activation=activation,
                                       batch_first=True, norm_first=True)
    m.blocks = nn.TransformerEncoder(layer, num_layers)
    m.ln_f = nn.LayerNorm(m.d_model)
    m.head = nn.Linear(m.d_model, vocab_size)
    for name, p in m.named_parameters():
        if p.ndim > 1 and "norm" not in name:
            nn.init.normal_(p, 0.0, 0.02)
    m._masks = {}


def causal_stack_logits(m: Any, ids: np.ndarray) -> Tensor:
    """Logits (N, T, V) of a model built by :func:`build_causal_stack` for checked integer
    ids (N, T), T <= context: position t attends to positions 0..t only (the causal mask
    of each length is made once)."""
    T = ids.shape[1]
    mask = m._masks.get(T)
    if mask is None:
        mask = m._masks[T] = nn.Transformer.generate_square_subsequent_mask(T)
    x = m.drop(m.tok(ids) + m.pos(np.arange(T)))
    return m.head(m.ln_f(m.blocks(x, mask=mask, is_causal=True)))


class CharTransformer(nn.Module):
    """``Embedding + positions -> causal TransformerEncoder -> LayerNorm -> Linear``.

    Each position sees only itself and the positions before it (a causal mask), so one
    forward pass over a window of ``context`` characters gives the next-character
    prediction at every position. The blocks are ``nn.TransformerEncoderLayer`` with
    ``norm_first=True`` (pre-norm, as GPT-2), GELU and a 4x feed-forward by default.

    Parameters
    ----------
    vocab : str or list of str
        The characters; their order fixes the ids.
    d_model, nhead, num_layers : int
        Width, heads and depth.
    context : int
        The longest window (the learned position table has this many rows).
    dim_feedforward : int, optional
        Default ``4 * d_model``.
    dropout : float
        Dropout in the blocks and after the embeddings.

    Notes
    -----
    The submodules are ``tok`` (Embedding V x d), ``pos`` (Embedding context x d),
    ``blocks`` (a TransformerEncoder), ``ln_f`` (LayerNorm) and ``head`` (Linear d -> V);
    the same names built from ``torch.nn`` give a state dict that loads here unchanged.

    Examples
    --------
    >>> lm = CharTransformer("abc", d_model=16, nhead=2, num_layers=1, context=8)
    >>> tuple(lm(np.array([[0, 1, 2]])).shape)
    (1, 3, 3)
    """

    def __init__(self, vocab: Any, d_model: int = 128, nhead: int = 4, num_layers: int = 4,
                 context: int = 128, dim_feedforward: int | None = None, dropout: float = 0.0,
                 activation: str = "gelu") -> None:
        super().__init__()
        who = "CharTransformer"
        chars = list(vocab)
        if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ArgumentError(f"{who}: vocab must be a string or a list of single characters")
        if len(set(chars)) != len(chars):
            raise ArgumentError(f"{who}: vocab has repeated characters")
        self.vocab = chars
        self._index = {c: i for i, c in enumerate(chars)}
        self.vocab_size = V = len(chars)
        build_causal_stack(self, V, d_model, nhead, num_layers, context, dim_feedforward,
                           dropout, activation, who)

    # ------------------------------------------------------------- text <-> ids
    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (int64); an unknown character raises."""
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ArgumentError(f"CharTransformer.encode: character {e.args[0]!r} is not in the "
                                f"vocabulary of {self.vocab_size}") from None

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids."""
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).reshape(-1))

    # ------------------------------------------------------------------ forward
    def forward(self, ids: Any) -> Tensor:
        """Logits (N, T, V) for ids (N, T), T <= context."""
        a = as_array(ids)
        if a.dtype.kind not in "iu" or a.ndim != 2:
            raise ArgumentError(f"CharTransformer: expected integer ids of shape (N, T), got "
                                f"{a.dtype} {a.shape}")
        if a.shape[1] > self.context:
            raise ArgumentError(f"CharTransformer: a window of {a.shape[1]} characters is "
                                f"longer than context={self.context}")
        return causal_stack_logits(self, a)

    def loss(self, ids: Any, targets: Any) -> Tensor:
        """Mean cross-entropy (nats / char) of the next-character predictions."""
        logits = self(ids)
        return L.cross_entropy(logits.reshape(-1, self.vocab_size), np.asarray(targets).reshape(-1))

    # ----------------------------------------------------------------- training
    def evaluate_text(self, text_or_ids: Any, batch_size: int = 32) -> float:
        """Mean nats per character over the text cut into non-overlapping windows of
        ``context + 1`` characters (each predicts its last ``context``)."""
        ids = self.encode(text_or_ids) if isinstance(text_or_ids, str) else np.asarray(text_or_ids)
        T = self.context
        n = (len(ids) - 1) // T
        if n < 1:
            raise ArgumentError(f"CharTransformer.evaluate_text: the text needs more than "
                                f"{T} characters")
        starts = np.arange(n) * T
        idx = starts[:, None] + np.arange(T + 1)
        windows = ids[idx]
        was = self.training
        self.eval()
        total = 0.0
        try:
            with no_grad():
                for i in range(0, n, batch_size):
                    w = windows[i:i + batch_size]
                    total += float(self.loss(w[:, :-1], w[:, 1:]).item()) * w.shape[0]
        finally:
            self.train(was)
        return total / n

    def fit_text(self, text: Any, epochs: int = 1, batch_size: int = 32, lr: float = 1e-3,
                 steps_per_epoch: int | None = None, validation_fraction: float = 0.1,
                 weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.99),
                 clip_grad_norm: float | None = 1.0, max_steps: int | None = None,
                 seed: int = 0, verbose: int = 1,
                 callback: Callable[[int, float], None] | None = None) -> History:
        """Train with AdamW on random windows of ``context + 1`` characters from the first
        ``1 - validation_fraction`` of the text; returns a :class:`~glassnet.training.History`.

        An epoch is ``steps_per_epoch`` steps (default: as many windows of ``batch_size``
        as hold the training characters once). Per epoch the history holds ``loss`` (the
        mean training nats/char), ``perplexity``, ``val_loss`` and ``val_perplexity``
        (:meth:`evaluate_text` on the held-out end), ``lr``, ``seconds`` (training only) and
        ``tokens_per_s``. The windows come from ``np.random.default_rng(seed)``: the same
        seed gives the same batches. ``callback(step, loss)`` runs after every step;
        ``max_steps`` stops early.

        >>> history = lm.fit_text(text, epochs=2)   # doctest: +SKIP
        >>> history["val_loss"]                     # doctest: +SKIP
        """
        who = "CharTransformer.fit_text"
        check_int(epochs, "epochs", who, min=1)
        check_int(batch_size, "batch_size", who, min=1)
        check_real(validation_fraction, "validation_fraction", who, 0, 1, high_open=True)
        ids = self.encode(text) if isinstance(text, str) else np.asarray(text)
        n_val = int(len(ids) * validation_fraction)
        train_ids, val_ids = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
        T = self.context
        if len(train_ids) < T + 2:
            raise ArgumentError(f"{who}: the training text has {len(train_ids)} characters, "
                                f"fewer than context + 2 = {T + 2}")
        per_epoch = steps_per_epoch or max(1, len(train_ids) // (batch_size * T))
        opt = optim.AdamW(self.parameters(), lr=lr, betas=betas, weight_decay=weight_decay)
        rng = np.random.default_rng(seed)
        history = History()
        history.params = {"epochs": epochs, "batch_size": batch_size, "lr": lr,
                          "context": T, "steps_per_epoch": per_epoch,
                          "train_chars": int(len(train_ids)), "val_chars": int(n_val)}
        step = 0
        self.train()
        for epoch in range(1, epochs + 1):
            t0, losses = time.perf_counter(), []
            for _ in range(per_epoch):
                starts = rng.integers(0, len(train_ids) - T - 1, batch_size)
                w = train_ids[starts[:, None] + np.arange(T + 1)]
                opt.zero_grad()
                loss = self.loss(w[:, :-1], w[:, 1:])
                loss.backward()
                if clip_grad_norm:
                    nn.utils.clip_grad_norm_(self.parameters(), clip_grad_norm)
                opt.step()
                step += 1
                losses.append(float(loss.item()))
                if callback is not None:
                    callback(step, losses[-1])
                if max_steps is not None and step >= max_steps:
                    break
            seconds = time.perf_counter() - t0
            val = self.evaluate_text(val_ids) if n_val > T + 1 else None
            mean = float(np.mean(losses))
            history.append(epoch, {
                "loss": mean, "perplexity": math.exp(mean), "val_loss": val,
                "val_perplexity": math.exp(val) if val is not None else None, "lr": lr,
                "seconds": seconds, "tokens_per_s": len(losses) * batch_size * T / seconds})
            if verbose:
                vs = f", val_loss {val:.4f}" if val is not None else ""
                print(f"epoch {epoch}/{epochs}: loss {mean:.4f}{vs} nats/char, "
                      f"{seconds:.1f} s", flush=True)
            if max_steps is not None and step >= max_steps:
                history.stop_reason = f"max_steps={max_steps} reached"
                break
        return history

    # ----------------------------------------------------------------- sampling
    def sample(self, prime: str = "", length: int = 200, temperature: float = 1.0,
               greedy: bool = False, top_k: int | None = None, seed: int | None = None) -> str:
        """Write ``length`` characters after ``prime`` (the last ``context`` characters
        are the model's window); returns ``prime`` + the new text."""
        check_int(length, "length", "CharTransformer.sample", min=0)
        if not greedy:
            check_real(temperature, "temperature", "CharTransformer.sample", 0, low_open=True)
        rng = np.random.default_rng(seed) if seed is not None else backend.rng()
        ids = list(self.encode(prime)) if prime else [int(rng.integers(self.vocab_size))]
        start = len(ids) - (0 if prime else 1)
        was = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(length):
                    window = np.array([ids[-self.context:]])
                    z = self(window).numpy()[0, -1].astype(np.float64)
                    if greedy:
                        nxt = int(np.argmax(z))
                    else:
                        z = z / temperature
                        if top_k is not None and top_k < len(z):
                            z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
                        p = np.exp(z - z.max())
                        nxt = int(rng.choice(len(p), p=p / p.sum()))
                    ids.append(nxt)
        finally:
            self.train(was)
        return prime + self.decode(ids[start:]) if prime else self.decode(ids)

    def extra_repr(self) -> str:
        return f"vocab={self.vocab_size}, d_model={self.d_model}, context={self.context}"
