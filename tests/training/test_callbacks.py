"""Callbacks' user-facing epoch numbers (issue 17): counted from 1 in every message."""
from __future__ import annotations

import numpy as np


def test_early_stopping_message_counts_epochs_from_one():
    """The third epoch is "epoch 3" in the message (as in the progress bar), while
    best_epoch stays the index 2 (as History.epoch and Keras)."""
    import glassnet as gn
    from glassnet import nn
    from glassnet.training import EarlyStopping, LambdaCallback, Trainer
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    gn.manual_seed(0)
    losses = iter([3.0, 2.0, 1.0, 1.5, 1.6, 1.7])          # best: the third epoch

    def fake(trainer, epoch, logs):
        logs["score"] = next(losses)
    es = EarlyStopping("score", patience=2, mode="min")
    t = Trainer(nn.Linear(4, 2), nn.CrossEntropyLoss())
    h = t.fit(X, y, epochs=6, verbose=0, callbacks=[LambdaCallback(on_epoch_end=fake), es])
    assert es.best_epoch == 2 and h.epoch[es.best_epoch] == 2
    assert es.stopped_epoch == 4
    assert "at epoch 3)" in t.stop_reason, t.stop_reason
    assert "after epoch 5" in t.stop_reason, t.stop_reason


def test_progress_line_convergence_and_checkpoint_names_count_from_one(tmp_path):
    import io as _io
    import os
    import glassnet as gn
    from glassnet import nn
    from glassnet.training import ConvergenceCriterion, ModelCheckpoint, ProgressBar, Trainer
    X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    gn.manual_seed(0)
    out = _io.StringIO()
    t = Trainer(nn.Linear(4, 2), nn.CrossEntropyLoss())
    cc = ConvergenceCriterion(loss_change_tol=1e9)           # converges at the second epoch
    ck = ModelCheckpoint(tmp_path / "m-{epoch}", save_weights_only=True)
    t.fit(X, y, epochs=5, verbose=0, callbacks=[ProgressBar(verbose=2, file=out), cc, ck])
    assert out.getvalue().splitlines()[0].startswith("epoch 1/5")
    assert cc.reason.startswith("converged at epoch 2:"), cc.reason
    assert sorted(os.listdir(tmp_path)) == ["m-1.safetensors", "m-2.safetensors"]
