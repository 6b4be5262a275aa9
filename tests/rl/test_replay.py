"""ReplayBuffer: ring semantics (the oldest row is overwritten first) and uniform sampling."""
import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import ArgumentError
from glassnet.rl import ReplayBuffer


def fill(buf, n, start=0):
    for t in range(start, start + n):
        buf.add(np.full(buf.obs_shape, t), action=t % 3, reward=float(t),
                next_obs=np.full(buf.obs_shape, t + 1), terminated=(t % 5 == 4))


def test_preallocated_and_ring_wraps_over_the_oldest():
    buf = ReplayBuffer(4, obs_shape=(2,), seed=0)
    assert buf.obs.shape == (4, 2) and buf.obs.dtype == np.float32 and len(buf) == 0
    arrays = [buf.obs, buf.next_obs, buf.actions, buf.rewards, buf.terminated]
    fill(buf, 3)
    assert len(buf) == 3 and buf.pos == 3 and not buf.full
    fill(buf, 3, start=3)                     # rows 0, 1 now hold t = 4, 5
    assert len(buf) == 4 and buf.full and buf.pos == 2
    assert buf.rewards.tolist() == [4.0, 5.0, 2.0, 3.0]
    assert buf.obs[:, 0].tolist() == [4.0, 5.0, 2.0, 3.0]
    assert buf.next_obs[:, 1].tolist() == [5.0, 6.0, 3.0, 4.0]
    assert buf.actions.tolist() == [1, 2, 2, 0]
    assert buf.terminated.tolist() == [1.0, 0.0, 0.0, 0.0]
    # the same arrays all along: nothing is reallocated as the ring turns
    assert all(a is b for a, b in zip(arrays, [buf.obs, buf.next_obs, buf.actions,
                                                buf.rewards, buf.terminated]))


def test_sample_rows_are_consistent_transitions_and_only_written_rows():
    buf = ReplayBuffer(100, obs_shape=(3,), seed=1)
    fill(buf, 10)
    b = buf.sample(500)
    assert b.obs.shape == (500, 3) and b.actions.dtype == np.int64
    t = b.rewards                              # reward t identifies the transition
    assert set(t.astype(int).tolist()) <= set(range(10))
    np.testing.assert_array_equal(b.obs[:, 0], t)
    np.testing.assert_array_equal(b.next_obs[:, 2], t + 1)
    np.testing.assert_array_equal(b.actions, t.astype(int) % 3)
    np.testing.assert_array_equal(b.terminated, (t.astype(int) % 5 == 4).astype(np.float32))


def test_sampling_is_uniform():
    buf = ReplayBuffer(8, obs_shape=(1,), seed=2)
    fill(buf, 20)                              # full ring, rows hold t = 16..19, 12..15
    draws = np.concatenate([buf.sample(1000).rewards for _ in range(40)])
    counts = np.bincount(draws.astype(int) - 12, minlength=8)
    assert counts.sum() == 40_000 and len(counts) == 8
    # each of 8 rows: expected 5000, binomial sd ~66; 5 sd is a bound it always clears
    assert np.abs(counts - 5000).max() < 330


def test_default_generator_is_glassnets_seeded_one():
    buf = ReplayBuffer(50, obs_shape=(1,))
    fill(buf, 50)
    gn.manual_seed(7)
    a = buf.sample(20).rewards
    gn.manual_seed(7)
    b = buf.sample(20).rewards
    np.testing.assert_array_equal(a, b)
    s1, s2 = ReplayBuffer(50, (1,), seed=3), ReplayBuffer(50, (1,), seed=3)
    fill(s1, 50), fill(s2, 50)
    np.testing.assert_array_equal(s1.sample(30).rewards, s2.sample(30).rewards)


def test_errors_name_the_argument():
    with pytest.raises(ArgumentError, match="capacity"):
        ReplayBuffer(0, (2,))
    with pytest.raises(ArgumentError, match="obs_shape"):
        ReplayBuffer(4, (2, 0))
    with pytest.raises(ArgumentError, match="empty"):
        ReplayBuffer(4, (2,)).sample(1)
    buf = ReplayBuffer(4, (2,))
    fill(buf, 1)
    with pytest.raises(ArgumentError, match="batch_size"):
        buf.sample(0)
    with pytest.raises(ValueError):
        buf.add(np.zeros(3), 0, 0.0, np.zeros(2), False)   # wrong observation shape
