"""Language with neural networks: words to ids, word embeddings, word-level language
models, sequence labelling, the course's window classifier and a CNN for text.

Layering: ``glassnet.text`` sits beside ``models`` (it builds on backend, autograd,
functional, nn, optim, data and validation; nothing below it imports it).

>>> from glassnet import text
>>> v = text.Vocabulary.build(["to be or not to be"])
>>> v.encode("to be")
[2, 3]
"""
from __future__ import annotations

from .vocab import Tokenizer, Vocabulary, tokenize
from .lm import WordLM, WordLSTMLM, WordTransformerLM
from .embeddings import (load_glove, nearest_neighbors, plot_embeddings, project_2d, read_glove,
                         save_glove)
from .tagging import (SequenceTagger, sequence_cross_entropy, sequence_mask, token_accuracy,
                      token_f1)
from .window import WindowClassifier, corrupt_windows, make_windows, window_gradients
from .cnn import TextCNN

__all__ = ["Tokenizer", "Vocabulary", "tokenize", "WordLM", "WordLSTMLM", "WordTransformerLM",
           "read_glove", "load_glove", "save_glove", "nearest_neighbors", "project_2d",
           "plot_embeddings", "SequenceTagger", "sequence_cross_entropy", "sequence_mask",
           "token_accuracy", "token_f1", "WindowClassifier", "make_windows", "corrupt_windows",
           "window_gradients", "TextCNN"]
