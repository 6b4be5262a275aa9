"""The training loop: ``Trainer`` (fit / evaluate / predict), ``History`` and callbacks.

>>> from glassnet.training import Trainer, EarlyStopping
>>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()),
...                   metrics=["accuracy"])  # doctest: +SKIP
>>> history = trainer.fit((X, y), validation=(Xv, yv), epochs=50, batch_size=32,  # doctest: +SKIP
...                       callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
"""
from __future__ import annotations

from .callbacks import (Callback, CallbackList, ConvergenceCriterion, EarlyStopping,
                        LambdaCallback, LRSchedulerCallback, ModelCheckpoint, ProgressBar)
from .history import History
from .lr_finder import LRFinder
from .loggers import CSVLogger, JSONLinesLogger, TensorBoardLogger
from .tbptt import SequenceStreams, TruncatedBPTT
from .trainer import Trainer

__all__ = ["Trainer", "History", "Callback", "CallbackList", "EarlyStopping",
           "ModelCheckpoint", "ConvergenceCriterion", "ProgressBar", "LambdaCallback",
           "LRSchedulerCallback", "SequenceStreams", "TruncatedBPTT", "LRFinder",
           "CSVLogger", "JSONLinesLogger", "TensorBoardLogger"]
