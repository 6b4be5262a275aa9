"""Truncated BPTT with the Trainer: SequenceStreams windows and the TruncatedBPTT hook."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.models import CharLM
from glassnet.training import SequenceStreams, Trainer, TruncatedBPTT
from glassnet.training.tbptt import detach_state


def test_windows_are_consecutive_time_major_and_targets_are_the_next_ids():
    ids = np.arange(22)                          # two streams: 0..10 and 11..21
    batches = SequenceStreams(ids, batch_size=2, seq_len=4)
    windows = list(batches)
    assert len(batches) == len(windows) == 3     # 10 targets per stream, 4 + 4 + 2
    x0, y0 = windows[0]
    assert x0.shape == (4, 2) and x0.flags.c_contiguous
    np.testing.assert_array_equal(x0[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(x0[:, 1], [11, 12, 13, 14])
    # flattened time-major, like logits (T, N, V) reshaped to (T N, V)
    np.testing.assert_array_equal(y0, [1, 12, 2, 13, 3, 14, 4, 15])
    x2, y2 = windows[2]
    np.testing.assert_array_equal(x2, [[8, 19], [9, 20]])
    np.testing.assert_array_equal(y2, [9, 20, 10, 21])
    assert sum(y.size for _, y in windows) == batches.n_samples == 20
    # every id but the first of a stream is a target exactly once
    assert sorted(np.concatenate([y for _, y in windows])) == sorted(set(ids) - {0, 11})


def test_random_offset_is_drawn_per_epoch_only_for_long_streams():
    ids = np.arange(40)                          # 2 streams of 20 > 2 * 4 steps
    batches = SequenceStreams(ids, 2, 4, random_offset=True, rng=np.random.default_rng(0))
    expected = np.random.default_rng(0)
    for _ in range(3):
        offset = int(expected.integers(4))
        x, _ = next(iter(batches))
        assert x[0, 0] == offset
    short = SequenceStreams(np.arange(16), 2, 4, random_offset=True)   # 8 steps: no draw
    before = gn.backend.rng().bit_generator.state
    assert next(iter(short))[0][0, 0] == 0
    assert gn.backend.rng().bit_generator.state == before


def test_bad_streams_are_named():
    with pytest.raises(ValueError, match="seq_len must be a positive int"):
        SequenceStreams(np.arange(10), 2, 0)
    with pytest.raises(ValueError, match="too short for 8 streams"):
        SequenceStreams(np.arange(10), 8, 4)
    with pytest.raises(TypeError, match="TruncatedBPTT: forward must be a callable"):
        TruncatedBPTT(forward=3)


def test_state_is_carried_across_batches_and_detached():
    rng = np.random.default_rng(0)
    gn.manual_seed(0)
    rnn = nn.RNN(3, 5).double()
    x1 = gn.Tensor(rng.normal(size=(4, 2, 3)), requires_grad=True)
    x2 = gn.Tensor(rng.normal(size=(4, 2, 3)), requires_grad=True)
    hook = TruncatedBPTT()
    y1 = hook.forward(rnn, x1)
    h1 = hook.states[True]
    y2 = hook.forward(rnn, x2)
    # the value is carried: window 2 continues the sequence where window 1 ended
    y_full, _ = rnn(gn.Tensor(np.concatenate([x1.numpy(), x2.numpy()])))
    np.testing.assert_allclose(y1.numpy(), y_full.numpy()[:4], rtol=1e-12)
    np.testing.assert_allclose(y2.numpy(), y_full.numpy()[4:], rtol=1e-12)
    # the gradient is not: it stops at window 2's first step
    y2.sum().backward()
    assert x1.grad is None and x2.grad is not None
    truncated = {n: p.grad.numpy().copy() for n, p in rnn.named_parameters()}
    rnn.zero_grad()
    y2b, _ = rnn(gn.Tensor(x2.numpy()), gn.Tensor(h1.numpy()))    # h1 as a constant
    y2b.sum().backward()
    for n, p in rnn.named_parameters():
        np.testing.assert_allclose(truncated[n], p.grad.numpy(), rtol=1e-12)
    rnn.zero_grad()
    x_full = gn.Tensor(np.concatenate([x1.numpy(), x2.numpy()]), requires_grad=True)
    y_full, _ = rnn(x_full)
    mask = np.zeros(y_full.shape)
    mask[4:] = 1.0
    (y_full * mask).sum().backward()                         # full BPTT of the same loss
    assert np.abs(x_full.grad.numpy()[:4]).max() > 1e-6
    assert not np.allclose(truncated["weight_hh_l0"], rnn.weight_hh_l0.grad.numpy())


def test_training_and_evaluation_keep_separate_states():
    gn.manual_seed(0)
    rnn = nn.GRU(2, 3)
    x = gn.Tensor(np.ones((2, 1, 2), np.float32))
    hook = TruncatedBPTT()
    hook.forward(rnn, x)
    train_state = hook.states[True]
    rnn.eval()
    hook.reset(False)
    hook.forward(rnn, x)
    assert hook.states[True] is train_state and hook.states[False] is not None
    hook.reset(True)
    assert hook.states[True] is None and hook.states[False] is not None
    assert detach_state(None) is None
    h, c = detach_state((gn.Tensor(np.ones(2), requires_grad=True) * 2,) * 2)
    assert h._ctx is None and c._ctx is None and not h.requires_grad


def _lm():
    gn.manual_seed(1)
    return CharLM("abcd", embedding_dim=4, hidden_size=6, cell="lstm")


def test_trainer_with_the_hook_equals_a_hand_written_tbptt_loop():
    ids = np.random.default_rng(0).integers(0, 4, size=200)
    batches = SequenceStreams(ids, batch_size=4, seq_len=8)
    lm = _lm()
    opt = optim.Adam(lm.parameters(), lr=1e-2)
    state, losses = None, []
    for _ in range(2):
        state = None
        for x, y in batches:
            loss, state = lm.loss(x, y, detach_state(state))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.numpy()))
    lm2 = _lm()
    seen = []
    cb = gn.training.LambdaCallback(on_batch_end=lambda t, s, logs: seen.append(logs["loss"]))
    Trainer(lm2, nn.CrossEntropyLoss(), optim.Adam(lm2.parameters(), lr=1e-2),
            forward=TruncatedBPTT(CharLM.stream_logits)).fit(
        batches, epochs=2, verbose=0, callbacks=[cb])
    assert seen == losses
    for a, b in zip(lm.state_dict().values(), lm2.state_dict().values()):
        np.testing.assert_array_equal(a, b)


def test_trainer_resets_the_hook_per_epoch_and_evaluation_pass():
    calls = []

    class Spy(TruncatedBPTT):
        def reset(self, training):
            calls.append(training)
            super().reset(training)

    ids = np.random.default_rng(1).integers(0, 4, size=120)
    lm = _lm()
    t = Trainer(lm, nn.CrossEntropyLoss(), forward=Spy(CharLM.stream_logits))
    h = t.fit(SequenceStreams(ids, 2, 8), validation=SequenceStreams(ids[:40], 2, 16), epochs=2,
              verbose=0)
    assert calls == [True, False, True, False]
    assert h.params["steps"] == len(SequenceStreams(ids, 2, 8))
    assert h.params["samples"] == 2 * 59 and h.params["batch_size"] == 2
    # evaluating a batch source runs through the hook with a fresh evaluation state
    assert t.evaluate(SequenceStreams(ids[:40], 2, 16))["loss"] == pytest.approx(
        lm.evaluate_text(ids[:40], seq_len=16, batch_size=2), rel=1e-6)
    with pytest.raises(ValueError, match="validation_split needs train as"):
        t.fit(SequenceStreams(ids, 2, 8), validation_split=0.2, verbose=0)
