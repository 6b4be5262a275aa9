"""What a case runs, and what "the same as the seed" means for each kind of file.

A target's ``run(path, seed, casedir)`` executes in the forked child and returns "same"
or "changed" (an exception is an outcome of its own, see :mod:`tools.fuzz.runner`);
``mutate(rng, seed)`` runs in the parent and returns ``(bytes, mutator name, re-signed?,
must be refused?)``.

========== =====================================================================
model      ``gn.load(path)``: a Module must have the seed's class, architecture, state
           dict (dtype, shape and bytes) and extra metadata; a saved state dict the same
           names and arrays
weights    ``gn.io.load_weights(fresh model of the seed's kind, path)``: the seed's
           state dict
checkpoint ``io.read_checkpoint(path)`` equal to the seed's trainer state, then a fresh
           trainer of the seed's kind ``fit(resume=path)`` for one more epoch, ending
           with the same weights as the seed's own resumed run
idx        ``data.read_idx(path)`` equal to the seed's array, then ``load_mnist(folder,
           verify=False)`` (gzip'd seeds) and ``vision.datasets.MNIST(folder)``
digits     ``data.load_digits(path, verify=False)`` equal to the seed's (X, y)
text       ``data.load_text(path)`` equal to the seed's string
========== =====================================================================

Model files, weights and checkpoints are checksummed: a mutation that is not re-signed
and loads with a change is a failure. Data files carry no checksum of their own
(``verify=False``), so for them only crashes, hangs, foreign exceptions and memory count.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from . import mutators as M
from . import seeds as S


def arrays_equal(a, b) -> bool:
    a, b = np.asarray(getattr(a, "_data", a)), np.asarray(getattr(b, "_data", b))
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def state_equal(got: dict, want: dict) -> bool:
    return set(got) == set(want) and all(arrays_equal(got[k], want[k]) for k in want)


def tree_equal(a, b) -> bool:
    """Deep equality of nested dicts / lists / tuples / arrays / Tensors / numbers, with
    exact array bytes and NaN equal to NaN."""
    if hasattr(a, "_data") or isinstance(a, np.ndarray):
        return (hasattr(b, "_data") or isinstance(b, np.ndarray)) and arrays_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(
            tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and type(a) is type(b) and len(a) == len(b) \
            and all(tree_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return repr(a) == repr(b)
    return type(a) is type(b) and a == b


class Target:
    name = ""
    checksummed = True
    weights = (0.35, 0.75)      # cumulative draw limits: byte-level, structural, re-signed

    def __init__(self, seeds, resigner=None, max_bomb=1 << 30):
        self.seeds = seeds
        self.resigner = resigner
        self.max_bomb = max_bomb

    @property
    def largest(self) -> int:
        """Bytes of the largest valid seed (decompressed for data files)."""
        return max(s.expect.get("raw_size", s.size) for s in self.seeds)

    def file_name(self, seed) -> str:
        return seed.path.name

    def setup(self, casedir: Path, seed, raw: bytes) -> Path:
        p = casedir / self.file_name(seed)
        p.write_bytes(raw)
        return p

    # -- safetensors targets
    def mutate(self, rng, seed):
        raw = seed.path.read_bytes()
        kind = "checkpoint" if self.name == "checkpoint" else "model"
        for _ in range(20):
            c = rng.random()
            try:
                if c < 0.03:
                    return M.strip_only_sha256(raw), "struct-strip-sha256-only", False, True
                if c < self.weights[0]:
                    return (*M.byte_mutate(rng, raw, M.header_len(raw)), False, False)
                if c < self.weights[1] or not (self.resigner and self.resigner.available):
                    return (*M.struct_mutate(rng, raw, kind), False, False)
                return (*M.resigned_mutate(rng, raw, self.resigner, seed.path.parent, kind),
                        True, False)
            except M.Skip:
                continue
        return (*M.byte_mutate(rng, raw), False, False)


class ModelTarget(Target):
    name = "model"

    def run(self, path, seed, casedir):
        import glassnet as gn
        from glassnet.io.serialize import architecture
        from glassnet.nn import Module
        obj = gn.load(path)
        want = seed.expect
        if isinstance(obj, Module):
            same = ("architecture" in want and type(obj).__name__ == want["class"]
                    and architecture(obj) == want["architecture"]
                    and state_equal(S.state_arrays(obj), want["state"])
                    and getattr(obj, "metadata", None) == want["extra"])
        elif isinstance(obj, dict):    # a state dict (also a model file without metadata)
            same = all(hasattr(v, "_data") or isinstance(v, np.ndarray) for v in obj.values()) \
                and state_equal({k: np.asarray(getattr(v, "_data", v)) for k, v in obj.items()},
                                want["state"])
        else:
            same = False
        return ("same" if same else "changed"), type(obj).__name__


class WeightsTarget(Target):
    name = "weights"

    def run(self, path, seed, casedir):
        import glassnet as gn
        model = S.make_model(seed.kind)
        gn.io.load_weights(model, path)
        return "same" if state_equal(S.state_arrays(model), seed.expect["state"]) else "changed"


class CheckpointTarget(Target):
    name = "checkpoint"
    weights = (0.25, 0.65)

    def run(self, path, seed, casedir):
        from glassnet.io import read_checkpoint
        state = read_checkpoint(path)
        same_state = tree_equal(state, seed.expect["state"])
        trainer = S.resume_once(seed.kind, path, seed.expect["epoch"], casedir)
        same_run = state_equal(S.state_arrays(trainer.model), seed.expect["final"])
        if same_state and same_run:
            return "same"
        return "changed", f"state {'same' if same_state else 'changed'}, resumed run " \
                          f"{'same' if same_run else 'changed'}"


class IdxTarget(Target):
    name = "idx"
    checksummed = False

    def setup(self, casedir, seed, raw):
        p = super().setup(casedir, seed, raw)
        other = "labels" if seed.expect["what"] == "images" else "images"
        partner = seed.path.parent / (S.IDX_NAMES[other] + (".gz" if seed.expect["packed"]
                                                             else ""))
        shutil.copyfile(partner, casedir / partner.name)
        return p

    def mutate(self, rng, seed):
        raw = seed.path.read_bytes()
        data, name = M.idx_mutate(rng, raw, seed.expect["packed"], seed.expect["what"],
                                  self.max_bomb)
        return data, name, False, False

    def run(self, path, seed, casedir):
        from glassnet import data
        from glassnet.vision.datasets import MNIST
        arr = data.read_idx(path)
        same = arrays_equal(arr, seed.expect["array"])
        if seed.expect["packed"]:
            data.load_mnist(casedir, split="train", verify=False)
        MNIST(str(casedir), train=True)
        return "same" if same else "changed"


class DigitsTarget(Target):
    name = "digits"
    checksummed = False

    def mutate(self, rng, seed):
        data, name = M.csv_mutate(rng, seed.path.read_bytes(), seed.path.suffix == ".gz")
        return data, name, False, False

    def run(self, path, seed, casedir):
        from glassnet import data
        X, y = data.load_digits(path, verify=False)
        same = arrays_equal(X, seed.expect["X"]) and arrays_equal(y, seed.expect["y"])
        return "same" if same else "changed"


class TextTarget(Target):
    name = "text"
    checksummed = False

    def mutate(self, rng, seed):
        data, name = M.text_mutate(rng, seed.path.read_bytes())
        return data, name, False, False

    def run(self, path, seed, casedir):
        from glassnet import data
        text = data.load_text(path)
        return "same" if text == seed.expect["text"] else "changed"


TARGETS = {c.name: c for c in (ModelTarget, WeightsTarget, CheckpointTarget, IdxTarget,
                                DigitsTarget, TextTarget)}
