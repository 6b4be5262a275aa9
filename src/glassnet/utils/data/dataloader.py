"""``DataLoader`` with PyTorch's arguments, rules and errors, yielding glassnet Tensors.

One epoch: the batch sampler gives groups of indices (``BatchSampler`` over a
``SequentialSampler``, or a ``RandomSampler`` when ``shuffle``), each group is fetched from
the dataset and collated into a batch. ``batch_size=None`` turns batching off: every
sample goes through ``collate_fn`` (``default_convert``) alone. An ``IterableDataset`` is
iterated instead of indexed.

Fast path. With the default collate and a dataset that answers whole batches
(:class:`TensorDataset`, a :class:`Subset` of one, ``glassnet.vision`` datasets whose
transforms work on batches), a batch is one fancy index of the arrays, never a Python loop
over its samples, and the built-in samplers hand over index arrays, not lists. The values
are those ``default_collate`` of the samples would give.

Workers. ``num_workers > 0`` starts that many worker processes (forked on Linux) when an
iteration begins (once, with ``persistent_workers``). Tasks go out round-robin, at most
``prefetch_factor * num_workers`` ahead; batches come back in sampler order (or as they
arrive, with ``in_order=False``); an error in a worker is raised again here, naming the
worker and carrying its traceback; a worker that dies, or a batch later than ``timeout``
seconds, raises RuntimeError. See :mod:`glassnet.utils.data.worker` for the seeds and for
how samples travel (multiprocessing queues, so pickle, as in PyTorch; never for files).

Why this is not ``glassnet.data.DataLoader``. That one is glassnet's own loader, the one
``Trainer`` uses: batches of NumPy arrays, ``batch_size=32``, a ``seed=``, tuples of arrays
accepted as a dataset. This one follows PyTorch (samplers, ``collate_fn``, workers,
``batch_size=1``, Tensors). They share the idea that a dataset may answer a whole index
array at once, but not code: ``glassnet.data`` sits above this interop layer and cannot
import samplers or collate, and putting PyTorch's defaults into it would change what
``Trainer`` users get.

Example
-------
>>> from glassnet.utils.data import TensorDataset
>>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
>>> [tuple(x.shape) for x, y in DataLoader(ds, batch_size=4)]
[(4, 3), (4, 3), (2, 3)]
"""
from __future__ import annotations

import itertools
import os
import queue
import warnings

import numpy as np

from ... import backend
from ..generator import Generator
from . import worker as _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset, batch_fetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler, index_batches

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only
    from .dataset import Dataset
    from .sampler import Sampler


__all__ = ["DataLoader"]

_STATUS_S = 1.0      # how often the main process checks its workers while it waits
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class _InfiniteNone:
    """The sampler of an IterableDataset: no indices, just "one more"."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class _Fetch:
    """Turns one group of indices into a batch, the same way in the main process and in a
    worker (there ``bind`` runs on the worker's copy of the dataset)."""

    def __init__(self, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool) -> None:
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def bind(self, dataset: Any) -> Callable[..., Any]:
        collate = self.collate_fn
        if isinstance(dataset, IterableDataset):
            return self._iterable(collate)
        if not self.auto_collation:
            return lambda index: collate(dataset[index])
        fast = batch_fetcher(dataset) if collate is default_collate else None
        getitems = getattr(dataset, "__getitems__", None)

        def fetch(batch: Any) -> Any:
            if fast is not None:
                idx = np.asarray(batch)
                if idx.dtype.kind in "iu":
                    return fast(idx.astype(np.int64, copy=False))
            if isinstance(batch, np.ndarray):
                batch = batch.tolist()          # datasets get Python ints, as in PyTorch
            if callable(getitems):
                return collate(getitems(batch))
            return collate([dataset[i] for i in batch])
        return fetch

    def _iterable(self,
                  collate: Callable[[Any], Any]) -> Callable[[Iterator[Any], Sequence[Any]], Any]:
        auto, drop_last = self.auto_collation, self.drop_last

        def fetch(stream: Iterator[Any], batch: Sequence[Any]) -> Any:
            if not auto:
                try:
                    return collate(next(stream))
                except StopIteration:
                    return StopIteration
            data = list(itertools.islice(stream, len(batch)))
            if not data or (drop_last and len(data) < len(batch)):
                return StopIteration
            return collate(data)
        return fetch


class DataLoader:
    """Batches of a dataset, PyTorch's ``torch.utils.data.DataLoader``.

    Parameters (PyTorch's, with its defaults)
    ----------------------------------------
    dataset : map-style (``len`` and ``[i]``) or :class:`IterableDataset`
    batch_size : int or None, default 1. None: no batching (``default_convert`` per sample)
    shuffle : a new random order each epoch (``RandomSampler(dataset, generator=generator)``)
    sampler, batch_sampler : the index order / groups; ``batch_sampler`` excludes
        ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``, ``sampler`` excludes ``shuffle``
    num_workers : worker processes (0: load in this process)
    collate_fn : list of samples -> batch (``default_collate``, or ``default_convert``
        without batching)
    pin_memory : accepted; glassnet has no accelerator, so it warns and does nothing
    drop_last : leave out the last, short batch
    timeout : seconds to wait for a worker's batch (0: forever)
    worker_init_fn : called with the worker id in each worker, after seeding
    multiprocessing_context : start method name or context (default: fork where it exists)
    generator : :class:`glassnet.utils.Generator` for the base seed and the shuffle
    prefetch_factor : batches each worker prepares ahead (default 2 with workers)
    persistent_workers : keep the workers between epochs
    in_order : yield batches in sampler order (False: as they arrive)

    ``len(loader)`` is the number of batches (samples without batching).

    Example
    -------
    >>> loader = DataLoader(train_set, batch_size=64, shuffle=True)    # doctest: +SKIP
    >>> for images, labels in loader: ...                              # doctest: +SKIP
    """

    __initialized = False

    def __init__(self, dataset: Dataset[Any], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable[Any] | None = None,
                 batch_sampler: Sampler | Iterable[Sequence[Any]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[Any], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], object] | None = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)):
            raise TypeError(f"DataLoader: num_workers must be an integer, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"DataLoader: generator must be a glassnet Generator "
                            f"(glassnet.utils.Generator().manual_seed(seed)) or None, got "
                            f"{type(generator).__name__}")
        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.in_order = in_order
        self.multiprocessing_context = self._context(multiprocessing_context)

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteNone()
            elif shuffle:   # (map-style datasets have __len__; Dataset itself has not, as in PyTorch)
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator: _MultiProcessIter | None = None
        self.__initialized = True
        if self.num_workers > 0:
            self._check_worker_number()

    def _context(self, ctx: Any) -> Any:
        if ctx is None:
            return None
        if self.num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers="
                             f"{self.num_workers}")
        import multiprocessing as mp  # noqa: PLC0415  (only loaders with workers need it)
        if isinstance(ctx, str):
            methods = mp.get_all_start_methods()
            if ctx not in methods:
                raise ValueError(f"multiprocessing_context option should specify a valid "
                                 f"start method in {methods!r}, but got "
                                 f"multiprocessing_context={ctx!r}")
            return mp.get_context(ctx)
        if not isinstance(ctx, mp.context.BaseContext):
            raise TypeError(f"multiprocessing_context option should be a valid context object "
                            f"or a string specifying the start method, but got "
                            f"multiprocessing_context={ctx}")
        return ctx

    def _check_worker_number(self) -> None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        if cpus and self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes "
                          f"in total. Our suggested max number of worker in current system is "
                          f"{cpus}, which is smaller than what this DataLoader is going to "
                          f"create. Please be aware that excessive worker creation might get "
                          f"DataLoader running slow or even freeze, lower the worker number to "
                          f"avoid potential slowness/freeze if necessary.", stacklevel=3)

    def __setattr__(self, attr: str, val: Any) -> None:
        if self.__initialized and attr in _FROZEN:
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def _fetch(self) -> _Fetch:
        return _Fetch(self._auto_collation, self.collate_fn, self.drop_last)

    def _index_groups(self) -> Iterator[Any]:
        if self._iterable:
            if self._auto_collation:
                assert self.batch_size is not None   # no batch_sampler with an IterableDataset
                return itertools.repeat([None] * self.batch_size)
            return itertools.repeat(None)
        if self._auto_collation:
            return index_batches(self.batch_sampler)
        return iter(self.sampler)

    def _base_seed(self) -> int:
        # drawn at the start of every iteration, before the sampler draws, as PyTorch does
        # (so a shared generator gives the same shuffle as PyTorch's)
        if self.generator is not None:
            return self.generator.random_int64()
        return int(backend.rng().integers(1 << 63))

    def __iter__(self) -> _SingleProcessIter | _MultiProcessIter:
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset()
            return self._iterator
        return _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # type: ignore[arg-type]  # an IterableDataset with __len__
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __repr__(self) -> str:
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"num_workers={self.num_workers}, drop_last={self.drop_last})")


class _SingleProcessIter:
    """One epoch in this process."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._base_seed = loader._base_seed()
        self._groups = loader._index_groups()
        self._iterable = loader._iterable
        fetch = loader._fetch().bind(loader.dataset)
        if self._iterable:
            stream = iter(loader.dataset)
            self._next = lambda group: fetch(stream, group)
        else:
            self._next = fetch
        self._done = False

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        group = next(self._groups)
        out = self._next(group)
        if out is StopIteration and self._iterable:
            self._done = True
            raise StopIteration
        return out

    def __len__(self) -> int:
        return len(self._loader)


class _MultiProcessIter:
    """One epoch (or, with persistent workers, every epoch) over worker processes."""

    def __init__(self, loader: DataLoader) -> None:
        import multiprocessing as mp  # noqa: PLC0415  (only loaders with workers need it)
        self._loader = loader
        self._n = loader.num_workers
        assert loader.prefetch_factor is not None    # 2 by default with workers
        self._prefetch = max(1, loader.prefetch_factor) * self._n
        self._in_order = loader.in_order
        self._timeout = loader.timeout
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp
        self._base_seed = loader._base_seed()
        self._results = ctx.Queue()
        self._index_queues: list[Any] = []
        self._workers: list[Any] = []
        self._shutdown = True
        fetch = loader._fetch()
        for w in range(self._n):
            q = ctx.Queue()
            q.cancel_join_thread()      # never block our exit on a dead worker's queue
            p = ctx.Process(target=_worker.worker_loop,
                            args=(fetch.bind, loader.dataset, loader._iterable, q,
                                  self._results, self._base_seed, loader.worker_init_fn, w,
                                  self._n, os.getpid()),
                            daemon=True)
            p.start()
            self._index_queues.append(q)
            self._workers.append(p)
            self._shutdown = False
        self._epoch = -1
        self._reset()

    def _reset(self) -> None:
        """Start an epoch: fresh index groups, every worker active, the pipeline primed."""
        self._epoch += 1
        self._groups = self._loader._index_groups()
        self._sent = 0          # tasks handed out
        self._next_task = 0     # the task whose batch is yielded next
        self._owner: dict[int, int] = {}        # task -> worker, while its batch is outstanding
        self._ready: dict[int, Any] = {}        # task -> batch that arrived ahead of its turn
        self._active = [True] * self._n
        self._cycle = itertools.cycle(range(self._n))
        self._exhausted = False
        for _ in range(self._prefetch):
            self._send()

    def _send(self) -> None:
        if self._exhausted or not any(self._active):
            return
        try:
            group = next(self._groups)
        except StopIteration:
            self._exhausted = True
            return
        for _ in range(self._n):
            w = next(self._cycle)
            if self._active[w]:
                break
        self._index_queues[w].put((self._epoch, self._sent, group))
        self._owner[self._sent] = w
        self._sent += 1

    def __iter__(self) -> _MultiProcessIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self) -> Any:
        try:
            return self._next_batch()
        except BaseException:
            if not self._loader.persistent_workers:
                self._stop()
            raise

    def _next_batch(self) -> Any:
        while True:
            if self._in_order:
                # skip tasks whose worker ran out of data (iterable datasets)
                while self._next_task < self._sent and self._next_task not in self._owner \
                        and self._next_task not in self._ready:
                    self._next_task += 1
                if self._next_task in self._ready:
                    batch = self._ready.pop(self._next_task)
                    self._next_task += 1
                    self._send()
                    return batch
            if not self._owner:
                if not self._loader.persistent_workers:
                    self._stop()
                raise StopIteration
            w, epoch, task, kind, payload = self._get()
            if epoch != self._epoch:
                continue                # a batch of an epoch the user left early
            self._owner.pop(task, None)
            if kind == "stop":
                self._active[w] = False
                self._send()
                continue
            data = _worker.loads(payload)
            if kind == "error":
                self._stop()
                data.reraise()
            if self._in_order and task != self._next_task:
                self._ready[task] = data
                continue
            if self._in_order:
                self._next_task += 1
            self._send()
            return data

    def _get(self) -> Any:
        waited = 0.0
        while True:
            step = _STATUS_S if not self._timeout else min(_STATUS_S, self._timeout - waited)
            try:
                return self._results.get(timeout=max(step, 1e-3))
            except queue.Empty:
                waited += step
                dead = [p for w, p in enumerate(self._workers) if not p.is_alive()
                        and (self._active[w] or self._owner)]
                if dead:
                    self._stop()
                    pids = ", ".join(str(p.pid) for p in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       f"unexpectedly") from None
                if self._timeout and waited >= self._timeout:
                    self._stop()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} "
                                       f"seconds") from None

    def _stop(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for p in self._workers:
            p.join(timeout=_STATUS_S)
        for p in self._workers:
            if p.is_alive():
                p.terminate()
                p.join(timeout=_STATUS_S)
        for q in self._index_queues:
            q.close()
        self._results.cancel_join_thread()
        self._results.close()

    @property
    def worker_pids(self) -> list[int | None]:
        """The process ids of the workers (for inspection and tests)."""
        return [p.pid for p in self._workers]

    def __del__(self) -> None:
        try:
            self._stop()
        except Exception:   # interpreter shutdown: the modules may already be gone
            pass
