"""Words to ids and back: a regex :class:`Tokenizer` and a :class:`Vocabulary`.

A tokenizer cuts text into words and punctuation marks (``"Hello, world!"`` ->
``["hello", ",", "world", "!"]`` with ``lower=True``); a vocabulary numbers the tokens
(the padding token is id 0, the unknown token id 1 by default, then any other special
tokens, then the corpus' words from the most to the least frequent), turns token lists
into id lists and a batch of them into one padded id array with its lengths, and
saves itself as JSON (never pickle).
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Any, Iterable, Sequence, Union

import numpy as np

from ..autograd.factories import tensor
from ..autograd.tensor import Tensor
from ..errors import ArgumentError, ArgumentTypeError, DataFileError
from ..validation import check_int

__all__ = ["Tokenizer", "tokenize", "Vocabulary"]

#: words (letters, digits, underscores; an inner apostrophe keeps "don't" and "king's"
#: whole), or any single character that is neither a word character nor a space
WORD_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"

Tokens = Union[str, Sequence[str]]
PathLike = Union[str, "os.PathLike[str]"]


class Tokenizer:
    """Split text into tokens with one regular expression (``re.findall``).

    Parameters
    ----------
    lower : bool
        Lower-case the text first.
    pattern : str
        The token pattern; by default words (with inner apostrophes) and single
        punctuation marks.

    Examples
    --------
    >>> Tokenizer(lower=True)("The King's men, ho!")
    ['the', "king's", 'men', ',', 'ho', '!']
    """

    def __init__(self, lower: bool = False, pattern: str = WORD_PATTERN) -> None:
        if not isinstance(pattern, str) or not pattern:
            raise ArgumentError(f"Tokenizer: pattern must be a non-empty regular expression "
                                f"string, got {pattern!r}")
        try:
            self._re = re.compile(pattern)
        except re.error as e:
            raise ArgumentError(f"Tokenizer: pattern {pattern!r} is not a valid regular "
                                f"expression ({e})") from None
        self.lower = bool(lower)
        self.pattern = pattern

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text``, in order."""
        if not isinstance(text, str):
            raise ArgumentTypeError(f"Tokenizer: text must be a str, got {type(text).__name__}")
        return self._re.findall(text.lower() if self.lower else text)

    def tokenize_lines(self, text: str, skip_empty: bool = True) -> list[list[str]]:
        """One token list per line of ``text`` (lines with no token left out by default)."""
        lines = [self(line) for line in text.splitlines()]
        return [t for t in lines if t] if skip_empty else lines

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "pattern": self.pattern}

    def __repr__(self) -> str:
        return f"Tokenizer(lower={self.lower}, pattern={self.pattern!r})"


def tokenize(text: str, lower: bool = False) -> list[str]:
    """``Tokenizer(lower)(text)``: words and punctuation marks.

    >>> tokenize("To be, or not to be")
    ['To', 'be', ',', 'or', 'not', 'to', 'be']
    """
    return Tokenizer(lower)(text)


class Vocabulary:
    """A numbering of tokens: ``stoi`` (token -> id) and ``itos`` (id -> token).

    The special tokens come first, in the order ``pad_token`` (id 0), ``unk_token``,
    then ``specials``; a token that is ``None`` is left out. Build one from a corpus
    with :meth:`build`, or give the full token list.

    Parameters
    ----------
    tokens : sequence of str
        The non-special tokens, in id order (after the specials).
    pad_token, unk_token : str or None
        Padding (id 0 when given) and the stand-in for unknown tokens; without an
        unknown token, encoding an unknown token raises.
    specials : sequence of str
        More reserved tokens, e.g. ``("<bos>", "<eos>")`` for language models.
    tokenizer : Tokenizer, optional
        Used when a str is encoded (default ``Tokenizer()``).
    counts : dict, optional
        The corpus counts of the tokens (kept by :meth:`build` and in the JSON file).

    Examples
    --------
    >>> v = Vocabulary.build(["the cat sat", "the dog sat"], specials=("<bos>", "<eos>"))
    >>> v.itos
    ['<pad>', '<unk>', '<bos>', '<eos>', 'the', 'sat', 'cat', 'dog']
    >>> v.encode("the bird sat")
    [4, 1, 5]
    >>> ids, lengths = v.encode_batch(["the cat", "a dog sat"])
    >>> ids.numpy().tolist(), lengths.numpy().tolist()
    ([[4, 6, 0], [1, 7, 5]], [2, 3])
    >>> v.decode_batch(ids, lengths)
    [['the', 'cat'], ['<unk>', 'dog', 'sat']]
    """

    def __init__(self, tokens: Iterable[str] = (), pad_token: str | None = "<pad>",
                 unk_token: str | None = "<unk>", specials: Sequence[str] = (),
                 tokenizer: Tokenizer | None = None,
                 counts: dict[str, int] | None = None) -> None:
        who = "Vocabulary"
        for name, tok in (("pad_token", pad_token), ("unk_token", unk_token)):
            if tok is not None and (not isinstance(tok, str) or not tok):
                raise ArgumentError(f"{who}: {name} must be a non-empty str or None, got {tok!r}")
        if isinstance(specials, str):
            raise ArgumentTypeError(f"{who}: specials must be a sequence of str, not one str "
                                    f"({specials!r})")
        head = [t for t in (pad_token, unk_token) if t is not None] + list(specials)
        itos = head + [t for t in tokens]
        for t in itos:
            if not isinstance(t, str) or not t:
                raise ArgumentError(f"{who}: every token must be a non-empty str, got {t!r}")
        if len(set(itos)) != len(itos):
            dup = next(t for t, c in Counter(itos).items() if c > 1)
            raise ArgumentError(f"{who}: token {dup!r} appears twice (a special token may not "
                                f"be a corpus token too)")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self.pad_token, self.unk_token = pad_token, unk_token
        self.specials: list[str] = list(specials)
        self.tokenizer = tokenizer if tokenizer is not None else Tokenizer()
        self.counts: dict[str, int] = dict(counts) if counts else {}

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, corpus: Iterable[Tokens], min_count: int = 1, max_size: int | None = None,
              pad_token: str | None = "<pad>", unk_token: str | None = "<unk>",
              specials: Sequence[str] = (), tokenizer: Tokenizer | None = None,
              lower: bool = False) -> "Vocabulary":
        """Count the tokens of ``corpus`` (strings, tokenized, or token lists) and keep those
        seen at least ``min_count`` times, the most frequent first (ties: first seen first),
        at most ``max_size`` ids in all (specials included).

        >>> Vocabulary.build(["a b b c c c"], min_count=2, pad_token=None).itos
        ['<unk>', 'c', 'b']
        """
        who = "Vocabulary.build"
        min_count = check_int(min_count, "min_count", who, min=1)
        tok = tokenizer if tokenizer is not None else Tokenizer(lower=lower)
        counter: Counter[str] = Counter()
        if isinstance(corpus, str):
            raise ArgumentTypeError(f"{who}: corpus must be an iterable of strings or token "
                                    f"lists, not one str (wrap it in a list, or split it into "
                                    f"lines)")
        for item in corpus:
            counter.update(tok(item) if isinstance(item, str) else item)
        n_special = sum(t is not None for t in (pad_token, unk_token)) + len(specials)
        if max_size is not None:
            max_size = check_int(max_size, "max_size", who, min=n_special)
        reserved = set(specials) | {pad_token, unk_token}
        words = [w for w, c in counter.most_common() if c >= min_count and w not in reserved]
        if max_size is not None:
            words = words[:max_size - n_special]
        return cls(words, pad_token, unk_token, specials, tok,
                   counts={w: counter[w] for w in words})

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token`` (the unknown id when it is not in the vocabulary)."""
        i = self.stoi.get(token)
        if i is None:
            if self.unk_id is None:
                raise KeyError(f"Vocabulary: token {token!r} is not in the vocabulary and there "
                               f"is no unknown token")
            return self.unk_id
        return i

    @property
    def pad_id(self) -> int | None:
        return None if self.pad_token is None else self.stoi[self.pad_token]

    @property
    def unk_id(self) -> int | None:
        return None if self.unk_token is None else self.stoi[self.unk_token]

    def special_ids(self) -> list[int]:
        """The ids of pad, unk and the other specials."""
        return [self.stoi[t] for t in (self.pad_token, self.unk_token, *self.specials)
                if t is not None]

    def lookup_token(self, index: int) -> str:
        if not 0 <= int(index) < len(self.itos):
            raise ArgumentError(f"Vocabulary.lookup_token: id {index} is outside 0..{len(self) - 1}")
        return self.itos[int(index)]

    # --------------------------------------------------------------- encode/decode
    def _tokens(self, item: Tokens, who: str) -> list[str]:
        if isinstance(item, str):
            return self.tokenizer(item)
        if isinstance(item, (list, tuple)) and all(isinstance(t, str) for t in item):
            return list(item)
        raise ArgumentTypeError(f"{who}: expected a str or a list of str tokens, got "
                                f"{type(item).__name__}")

    def encode(self, tokens: Tokens, bos: str | None = None, eos: str | None = None) -> list[int]:
        """Ids of ``tokens`` (a str is tokenized first); ``bos`` / ``eos`` (special tokens
        of this vocabulary) are put before / after."""
        toks = self._tokens(tokens, "Vocabulary.encode")
        for name, t in (("bos", bos), ("eos", eos)):
            if t is not None and t not in self.stoi:
                raise ArgumentError(f"Vocabulary.encode: {name}={t!r} is not in the vocabulary "
                                    f"(add it with specials=...)")
        ids = [self[t] for t in toks]
        if bos is not None:
            ids.insert(0, self.stoi[bos])
        if eos is not None:
            ids.append(self.stoi[eos])
        return ids

    def pad(self, sequences: Sequence[Sequence[int]], max_len: int | None = None,
            padding_value: int | None = None) -> tuple[Tensor, Tensor]:
        """Right-pad id lists into one int64 tensor (N, T) with the pad id (or
        ``padding_value``); returns it and the lengths (N,) (cut at ``max_len``)."""
        who = "Vocabulary.pad"
        value = self.pad_id if padding_value is None else padding_value
        if value is None:
            raise ArgumentError(f"{who}: this vocabulary has no pad token; give padding_value")
        lengths = np.fromiter((len(s) for s in sequences), np.int64, count=len(sequences))
        if max_len is not None:
            lengths = np.minimum(lengths, check_int(max_len, "max_len", who, min=1))
        T = int(lengths.max()) if len(lengths) else 0
        out = np.full((len(lengths), T), value, dtype=np.int64)
        flat = [i for s, n in zip(sequences, lengths) for i in list(s)[:n]]
        out[np.arange(T)[None, :] < lengths[:, None]] = np.asarray(flat, dtype=np.int64)
        return tensor(out), tensor(lengths)

    def encode_batch(self, batch: Iterable[Tokens], bos: str | None = None,
                     eos: str | None = None, max_len: int | None = None) -> tuple[Tensor, Tensor]:
        """:meth:`encode` each item and :meth:`pad` them: ``(ids (N, T), lengths (N,))``."""
        return self.pad([self.encode(b, bos, eos) for b in batch], max_len)

    def decode(self, ids: Any, skip_special: bool = False) -> list[str]:
        """Tokens of a sequence of ids; the padding is always dropped, the other special
        tokens too with ``skip_special``."""
        a = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids).reshape(-1)
        if a.size and (a.min() < 0 or a.max() >= len(self.itos)):
            raise ArgumentError(f"Vocabulary.decode: ids must be in 0..{len(self) - 1}, got "
                                f"{int(a.min())}..{int(a.max())}")
        drop = set(self.special_ids()) if skip_special else \
            ({self.pad_id} if self.pad_id is not None else set())
        return [self.itos[i] for i in a.tolist() if i not in drop]

    def decode_batch(self, ids: Any, lengths: Any = None,
                     skip_special: bool = False) -> list[list[str]]:
        """:meth:`decode` each row of ``ids`` (N, T), cut at its length when given."""
        a = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids)
        if a.ndim != 2:
            raise ArgumentError(f"Vocabulary.decode_batch: ids must be 2-D (N, T), got shape "
                                f"{a.shape}")
        n = np.full(len(a), a.shape[1]) if lengths is None else \
            np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths).reshape(-1)
        return [self.decode(row[:k], skip_special) for row, k in zip(a, n)]

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict[str, Any]:
        n = sum(t is not None for t in (self.pad_token, self.unk_token)) + len(self.specials)
        return {"format": "glassnet.Vocabulary", "version": 1, "pad_token": self.pad_token,
                "unk_token": self.unk_token, "specials": self.specials,
                "tokenizer": self.tokenizer.to_dict(), "tokens": self.itos[n:],
                "counts": [self.counts.get(t, 0) for t in self.itos[n:]]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Vocabulary":
        if not isinstance(d, dict) or d.get("format") != "glassnet.Vocabulary":
            raise DataFileError("Vocabulary.from_dict: not a glassnet vocabulary (its 'format' "
                                "field must be 'glassnet.Vocabulary')")
        tok = d.get("tokenizer") or {}
        counts = dict(zip(d["tokens"], d.get("counts") or []))
        return cls(d["tokens"], d.get("pad_token"), d.get("unk_token"), d.get("specials", ()),
                   Tokenizer(**tok), counts={k: int(v) for k, v in counts.items() if v})

    def save(self, path: PathLike) -> None:
        """Write the vocabulary (tokens, specials, tokenizer settings, counts) as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, ensure_ascii=False)

    @classmethod
    def load(cls, path: PathLike) -> "Vocabulary":
        """Read a vocabulary written by :meth:`save`."""
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as e:
                raise DataFileError(f"Vocabulary.load: {path} is not JSON ({e})") from None
        return cls.from_dict(d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Vocabulary({len(self)} tokens, pad={self.pad_token!r}, unk={self.unk_token!r}, "
                f"specials={self.specials})")
