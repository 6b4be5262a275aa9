"""``CharLM``: a character-level language model (embedding -> LSTM/GRU/RNN -> linear).

It reads text one character at a time and predicts the next one; trained with
truncated backpropagation through time on long contiguous streams (the state
is carried, detached, from one chunk to the next: ``Trainer`` with
``SequenceStreams`` and the ``TruncatedBPTT`` hook), it writes new text with
:meth:`CharLM.sample`. Losses are in nats per character; perplexity = e^loss.
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np

from .. import backend, nn, optim
from ..autograd.function import no_grad
from ..autograd.tensor import as_array
from ..functional import losses as L
from ..functional import math as M
from ..functional.embedding import one_hot
from ..nn.module import Module
from ..nn.recurrent import LAYERS
from ..training import Callback, SequenceStreams, Trainer, TruncatedBPTT
from ..training.tbptt import text_streams
from ..validation import check_int, check_real, is_int, lookup

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

    from glassnet.autograd.tensor import Tensor
    from glassnet.optim.optimizer import Optimizer
    from glassnet.training.history import History
    from glassnet.training.tbptt import State
    from glassnet.training.trainer import Trainer


__all__ = ["CharLM", "text_streams"]


def _eval_streams(ids: np.ndarray, seq_len: int, batch_size: int) -> SequenceStreams:
    """The windows an evaluation reads: at most ``batch_size`` streams of 2+ characters."""
    return SequenceStreams(ids, max(1, min(batch_size, (len(ids) - 1) // 2)), seq_len)


class _FitTextReport(Callback):
    """What ``CharLM.fit_text`` adds to ``Trainer.fit``: a step counter across epochs with
    ``callback(step, loss)``, evaluation points every ``eval_every`` steps, the stops
    (max_steps, time_limit, target_val_loss), the learning-rate decay, perplexities,
    training-only seconds and tokens/s, and its printed lines."""

    def __init__(self, lm: CharLM, params: dict[str, Any], val_ids: np.ndarray | None,
                 batch_size: int, callback: Callable[[int, float], Any] | None,
                 eval_every: int | None, max_steps: int | None, time_limit: float | None,
                 target_val_loss: float | None, lr_decay: float, verbose: int) -> None:
        self.lm = lm
        self.params = params
        self.val_ids = val_ids
        self.batch_size = batch_size
        self.callback = callback
        self.eval_every = eval_every
        self.max_steps = max_steps
        self.time_limit = time_limit
        self.target_val_loss = target_val_loss
        self.lr_decay = lr_decay
        self.verbose = verbose

    def on_train_begin(self, trainer: Trainer) -> None:
        trainer.history.params = self.params   # its "steps" are the evaluation points
        self.step, self.t_start = 0, time.perf_counter()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.t0 = self.t_end = time.perf_counter()
        self.total, self.count = 0.0, 0

    def on_batch_end(self, trainer: Trainer, step: int, logs: dict[str, Any]) -> None:
        value = logs["loss"]
        self.total += value * logs["batch_size"]
        self.count += logs["batch_size"]
        self.step += 1
        if self.callback is not None:
            self.callback(self.step, value)
        if self.eval_every and self.step % self.eval_every == 0:
            point = {"step": self.step, "loss": self.total / self.count}
            if self.val_ids is not None:
                point["val_loss"] = self.lm.evaluate_text(self.val_ids, batch_size=self.batch_size)
            self.params["steps"].append(point)
            if self.verbose:
                print(f"  step {self.step}: " + "  ".join(
                    f"{k} {v:.4f}" for k, v in point.items() if k != "step"), file=sys.stderr)
        if self.max_steps and self.step >= self.max_steps:
            trainer.stop_training, trainer.stop_reason = True, "max_steps"
        elif self.time_limit and time.perf_counter() - self.t_start >= self.time_limit:
            trainer.stop_training, trainer.stop_reason = True, "time_limit"
        self.t_end = time.perf_counter()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        seconds = self.t_end - self.t0
        logs["perplexity"] = math.exp(logs["loss"])
        if "val_loss" in logs:
            logs["val_perplexity"] = math.exp(logs["val_loss"])
        logs["seconds"] = seconds
        logs["tokens_per_s"] = self.count / seconds if seconds > 0 else float("nan")
        if self.verbose:
            keys = ("loss", "perplexity", "val_loss", "val_perplexity", "lr", "seconds",
                    "tokens_per_s")
            print(f"epoch {epoch + 1}/{self.params['epochs']}: " + "  ".join(
                f"{k} {logs[k]:.4g}" for k in keys if k in logs), file=sys.stderr)
        if trainer.stop_training:
            return
        if self.target_val_loss is not None and \
                logs.get("val_loss", math.inf) <= self.target_val_loss:
            trainer.stop_training, trainer.stop_reason = True, "target_val_loss"
        elif self.lr_decay != 1.0:
            for group in trainer.optimizer.param_groups:
                group["lr"] *= self.lr_decay


class CharLM(Module):
    """Character language model: ``Embedding -> LSTM/GRU/RNN -> Linear`` over the vocabulary.

    Parameters
    ----------
    vocab : str, list of str, or int
        The characters (their order fixes the ids; stored so a saved model can
        encode and decode), or just the vocabulary size.
    embedding_dim : int or None
        Size of the learned character embedding; None (or 0) feeds one-hot vectors.
    hidden_size, num_layers : int
        Width and depth of the recurrent network.
    cell : {"lstm", "gru", "rnn"}
    dropout : float
        Dropout between recurrent layers (num_layers > 1).

    Example
    -------
    >>> lm = CharLM(sorted(set(text)), hidden_size=256)  # doctest: +SKIP
    >>> history = lm.fit_text(text, epochs=5)          # loss in nats / char  # doctest: +SKIP
    >>> print(lm.sample("ROMEO:", 200, temperature=0.8))  # doctest: +SKIP
    """

    def __init__(self, vocab: int | str | Sequence[str], embedding_dim: int | None = 64,
                 hidden_size: int = 256, num_layers: int = 1, cell: str = "lstm",
                 dropout: float = 0.0) -> None:
        super().__init__()
        if is_int(vocab):
            V = check_int(vocab, "vocab (a size)", "CharLM")
            self.vocab = None
        else:
            chars = list(cast("str | Sequence[str]", vocab))  # not an int: characters
            if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
                raise ValueError("CharLM: vocab must be a vocabulary size or a string / list of "
                                 "single characters")
            if len(set(chars)) != len(chars):
                raise ValueError("CharLM: vocab has repeated characters")
            self.vocab = chars
            self._index = {c: i for i, c in enumerate(chars)}
            V = len(chars)
        cell = str(cell).lower()
        rnn = lookup(cell, LAYERS, "cell", "CharLM")
        self.vocab_size, self.cell = V, cell
        self.embedding_dim = int(embedding_dim) if embedding_dim else None
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.embedding = nn.Embedding(V, self.embedding_dim) if self.embedding_dim else None
        self.rnn = rnn(self.embedding_dim or V, self.hidden_size, self.num_layers,
                       dropout=dropout)
        self.decoder = nn.Linear(self.hidden_size, V)

    # ------------------------------------------------------------- text <-> ids
    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (int64). Unknown characters raise a ValueError."""
        if self.vocab is None:
            raise ValueError("CharLM.encode: this model was built with a vocabulary size only; "
                             "build it with the characters (CharLM(vocab='abc...'))")
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise ValueError(f"CharLM.encode: character {e.args[0]!r} is not in the "
                             f"vocabulary of {self.vocab_size}") from None

    def decode(self, ids: npt.ArrayLike) -> str:
        """The text of a sequence of ids."""
        if self.vocab is None:
            raise ValueError("CharLM.decode: this model has no stored vocabulary")
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).reshape(-1))

    # ------------------------------------------------------------------ forward
    def _inputs(self, ids_tm: np.ndarray) -> Tensor:
        if self.embedding is not None:
            return self.embedding(ids_tm)
        return one_hot(ids_tm, self.vocab_size, dtype=self.decoder.weight.dtype)

    def forward_time_major(self, ids: npt.ArrayLike | Tensor,
                           state: State = None) -> tuple[Tensor, State]:
        """Logits (T, N, V) and the final state for time-major ids (T, N)."""
        ids = as_array(ids)
        if ids.ndim != 2:
            raise ValueError(f"CharLM: expected ids of shape (T, N), got {ids.shape}")
        y, state = self.rnn(self._inputs(ids), state)
        T, N, H = y.shape
        logits = self.decoder(M.reshape(y, (T * N, H)))
        return M.reshape(logits, (T, N, self.vocab_size)), state

    def forward(self, ids: npt.ArrayLike | Tensor, state: State = None) -> tuple[Tensor, State]:
        """Logits (N, T, V) and the final state for batch-first ids (N, T) (or (T,) unbatched)."""
        ids = as_array(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"CharLM: expected integer character ids, got dtype {ids.dtype}")
        if ids.ndim == 1:
            logits, state = self.forward_time_major(ids[:, None], state)
            return M.squeeze(logits, 1), state
        logits, state = self.forward_time_major(np.ascontiguousarray(ids.T), state)
        return M.transpose(logits, 1, 0, 2), state

    def stream_logits(self, ids_tm: npt.ArrayLike | Tensor,
                      state: State = None) -> tuple[Tensor, State]:
        """Logits (T N, V) for time-major ids (T, N), flattened time-major (the order of
        ``SequenceStreams``' targets), and the final state.

        >>> logits, state = lm.stream_logits(ids_tm)    # then the next window from state  # doctest: +SKIP
        """
        logits, state = self.forward_time_major(ids_tm, state)
        return M.reshape(logits, (-1, self.vocab_size)), state

    def loss(self, ids_tm: npt.ArrayLike | Tensor, targets_tm: npt.ArrayLike,
             state: State = None) -> tuple[Tensor, State]:
        """Mean cross-entropy (nats / char) of time-major ids against the next characters."""
        logits, state = self.stream_logits(ids_tm, state)
        # cross_entropy takes class-index arrays (its target is annotated Tensor here)
        target = np.asarray(targets_tm).reshape(-1)
        return L.cross_entropy(logits, target), state

    # ----------------------------------------------------------------- sampling
    def sample(self, prime: str = "", length: int = 200, temperature: float = 1.0,
               greedy: bool = False, seed: int | None = None, top_k: int | None = None) -> str:
        """Write ``length`` characters after ``prime``; returns ``prime`` + the new text.

        Each next character is drawn from softmax(logits / temperature) (lower
        temperature: safer, more repetitive text), or the most likely one when
        ``greedy``. ``seed`` gives a private generator; otherwise glassnet's
        global one is used (``gn.manual_seed`` makes it repeatable).

        >>> lm.sample("h", 4, greedy=True)  # doctest: +SKIP
        'hello'
        """
        check_int(length, "length", "CharLM.sample", min=0)
        if not greedy:
            check_real(temperature, "temperature", "CharLM.sample", 0, low_open=True)
        rng = np.random.default_rng(seed) if seed is not None else backend.rng()
        was_training = self.training
        self.eval()
        out = []
        try:
            with no_grad():
                if prime:
                    ids = self.encode(prime)
                else:   # no prime: start from a random character
                    ids = np.array([rng.integers(self.vocab_size)])
                    out.append(int(ids[0]))
                logits, state = self.forward_time_major(ids[:, None])
                z = logits._data[-1, 0].astype(np.float64)
                for _ in range(length):
                    if greedy:
                        nxt = int(np.argmax(z))
                    else:
                        z = z / temperature
                        if top_k is not None and top_k < len(z):
                            z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
                        p = np.exp(z - z.max())
                        p /= p.sum()
                        nxt = int(rng.choice(len(p), p=p))
                    out.append(nxt)
                    logits, state = self.forward_time_major(np.array([[nxt]]), state)
                    z = logits._data[-1, 0].astype(np.float64)
        finally:
            self.train(was_training)
        new = self.decode(out) if self.vocab is not None else "".join(map(chr, out))
        return prime + new

    # ----------------------------------------------------------------- training
    def evaluate_text(self, text_or_ids: str | npt.ArrayLike, seq_len: int = 256,
                      batch_size: int = 32) -> float:
        """Mean loss in nats per character of predicting each next character of the text
        (read as ``batch_size`` streams, ``seq_len`` characters at a time, state carried)."""
        ids = self.encode(text_or_ids) if isinstance(text_or_ids, str) else \
            np.asarray(text_or_ids)
        was_training = self.training
        self.eval()
        total, count, state = 0.0, 0, None
        try:
            with no_grad():
                for x, y in _eval_streams(ids, seq_len, batch_size):
                    loss, state = self.loss(x, y, state)
                    total += float(loss._data) * y.size
                    count += y.size
        finally:
            self.train(was_training)
        return total / max(count, 1)

    def fit_text(self, text: str | npt.ArrayLike, epochs: int = 1, seq_len: int = 64,
                 batch_size: int = 32, lr: float = 2e-3, validation_fraction: float = 0.1,
                 optimizer: Optimizer | str = "adam", clip_grad_norm: float | None = 5.0,
                 max_steps: int | None = None, time_limit: float | None = None,
                 eval_every: int | None = None, verbose: int = 1, seed: int | None = None,
                 callback: Callable[[int, float], Any] | None = None, lr_decay: float = 1.0,
                 target_val_loss: float | None = None) -> History:
        """Train on ``text`` with truncated BPTT; returns a :class:`~glassnet.training.History`.

        The last ``validation_fraction`` of the text is held out. The training part
        is cut into ``batch_size`` contiguous streams read ``seq_len`` characters at
        a time; the recurrent state is carried (detached) from one chunk to the next,
        and each epoch starts the chunks at a random offset (drawn from a generator
        seeded with ``seed``, else from glassnet's). It runs ``Trainer.fit`` over
        ``SequenceStreams`` with the ``TruncatedBPTT`` hook.

        The history holds, per epoch, ``loss`` (training nats/char), ``perplexity``,
        ``val_loss``, ``val_perplexity``, ``lr``, ``seconds`` (training only),
        ``tokens_per_s`` and the Trainer's ``time`` (with validation).
        ``eval_every`` (steps) also evaluates inside epochs: those points go to
        ``history.params["steps"]``. ``max_steps`` / ``time_limit`` (seconds) stop
        early, and so does a validation loss at or below ``target_val_loss``.
        ``lr_decay`` multiplies the learning rate after every epoch.
        ``callback(step, loss)`` is called after every step.

        >>> history = lm.fit_text(text, epochs=2, seq_len=64, batch_size=32)  # doctest: +SKIP
        >>> history["val_loss"]  # doctest: +SKIP
        """
        if isinstance(text, str):
            ids = self.encode(text)
        else:
            ids = np.asarray(text)
        check_real(validation_fraction, "validation_fraction", "fit_text", 0, 1, high_open=True)
        n_val = int(len(ids) * validation_fraction)
        train_ids, val_ids = (ids[:len(ids) - n_val], ids[len(ids) - n_val:]) if n_val \
            else (ids, None)
        if val_ids is not None and len(val_ids) < 3:
            val_ids = None
        rng = np.random.default_rng(seed) if seed is not None else None
        train = SequenceStreams(train_ids, batch_size, seq_len, random_offset=True, rng=rng)
        val = None if val_ids is None else _eval_streams(val_ids, 256, batch_size)
        opt = optim.get(optimizer, self.parameters(), lr=lr) if isinstance(optimizer, str) \
            else optimizer
        report = _FitTextReport(self, {
            "epochs": epochs, "seq_len": seq_len, "batch_size": batch_size, "lr": lr,
            "train_chars": int(len(train_ids)),
            "val_chars": int(len(val_ids)) if val_ids is not None else 0, "steps": []},
            val_ids, batch_size, callback, eval_every, max_steps, time_limit, target_val_loss,
            lr_decay, verbose)
        trainer = Trainer(self, nn.CrossEntropyLoss(), opt, clip_grad_norm=clip_grad_norm or None,
                          forward=TruncatedBPTT(CharLM.stream_logits))
        was_training = self.training
        try:
            return trainer.fit(train, validation=val, epochs=epochs, callbacks=[report],
                               verbose=0)
        finally:
            self.train(was_training)

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, cell={self.cell!r}, "
                f"embedding_dim={self.embedding_dim}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}")
