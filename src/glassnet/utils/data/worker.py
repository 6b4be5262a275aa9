"""What runs inside a DataLoader worker process, and ``get_worker_info``.

A worker is a separate process (forked on Linux, so it starts with a copy of the dataset,
the collate function and everything else the main process had). It waits for tasks on its
own index queue, fetches and collates the batch, serialises the result itself (so a sample
that cannot be sent becomes a clear error instead of a silent hang) and puts it on the
shared result queue. Samples travel between the processes through multiprocessing queues,
which serialise them with pickle, as PyTorch's workers do; that is the only use of pickle
here and it never touches files (model files stay safetensors + JSON).

Seeds: worker ``w`` of an iterator whose base seed is ``s`` (drawn once per iterator from
the DataLoader's generator, or glassnet's global one) runs with ``glassnet.manual_seed(s +
w)``, ``random.seed(s + w)`` and ``numpy.random.seed`` from a ``SeedSequence([w, s])``, so
random transforms differ between workers and are reproducible.
"""
from __future__ import annotations

import os
import queue
import random
import sys
import traceback

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from ... import backend

__all__ = ["WorkerInfo", "get_worker_info", "ExceptionWrapper"]

_worker_info: WorkerInfo | None = None
_POLL_S = 5.0        # how often an idle worker checks that its parent is still alive


class WorkerInfo:
    """``id`` (0 .. num_workers-1), ``num_workers``, ``seed`` and ``dataset`` (this worker's
    copy) of the current DataLoader worker process. Read-only."""

    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key: str, val: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of this process when it is a DataLoader worker, else None.

    Use it in an :class:`IterableDataset`'s ``__iter__`` to give each worker its share, or
    in a ``worker_init_fn`` to seed per worker.

    Example
    -------
    >>> get_worker_info() is None          # in the main process
    True
    """
    return _worker_info


class _KeyErrorMessage(str):
    """A KeyError prints its argument with repr(); this keeps the traceback readable."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process and raised there again
    with the worker's traceback in its message."""

    def __init__(self, exc_info: tuple[Any, Any, Any], where: str) -> None:
        exc_type, exc, tb = exc_info
        self.exc_type = exc_type
        self.where = where
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))

    def reraise(self) -> NoReturn:
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            # an exception type whose constructor needs other arguments
            raise RuntimeError(msg) from None
        raise exc


def _seed_worker(base_seed: int, worker_id: int) -> int:
    seed = base_seed + worker_id
    random.seed(seed)
    backend.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _dumps(obj: object) -> bytes:
    from multiprocessing.reduction import ForkingPickler  # noqa: PLC0415  (workers only)
    return bytes(ForkingPickler.dumps(obj))


def loads(payload: bytes) -> Any:
    """Decode what a worker sent (the main process's side of :func:`_dumps`)."""
    from multiprocessing.reduction import ForkingPickler  # noqa: PLC0415  (workers only)
    return ForkingPickler.loads(payload)


def _error(where: str) -> bytes:
    """The current exception, wrapped and serialised; an exception whose type cannot be
    sent (a class defined inside a function) travels as a RuntimeError with the same text."""
    wrapped = ExceptionWrapper(sys.exc_info(), where)
    try:
        return _dumps(wrapped)
    except Exception:
        wrapped.exc_type = RuntimeError
        return _dumps(wrapped)


def worker_loop(make_fetch: Callable[[Any], Callable[..., Any]], dataset: Any, is_iterable: bool,
                index_queue: Any, result_queue: Any, base_seed: int,
                worker_init_fn: Callable[[int], object] | None, worker_id: int, num_workers: int,
                parent_pid: int) -> None:
    """Body of worker ``worker_id``: messages in are ``(epoch, task, indices)`` or None
    (stop); out go ``(worker_id, epoch, task, kind, payload)`` with kind "ok", "error" or
    "stop" (an iterable dataset ran out in this worker for this epoch)."""
    global _worker_info
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    try:
        backend.set_num_threads(1)       # the workers already run in parallel
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        fetch = make_fetch(dataset)
    except Exception:
        init_error = _error(where)       # reported as the answer to the first task
    stream_epoch, stream = None, None
    while True:
        try:
            msg = index_queue.get(timeout=_POLL_S)
        except queue.Empty:
            if os.getppid() != parent_pid:      # the main process is gone
                return
            continue
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if msg is None:
            return
        epoch, task, indices = msg
        kind, payload = "ok", None
        if init_error is not None:
            kind, payload, init_error = "error", init_error, None
        else:
            try:
                if is_iterable:
                    if epoch != stream_epoch:    # a new epoch: iterate from the start
                        stream_epoch, stream = epoch, iter(dataset)
                    out = StopIteration if stream is None else fetch(stream, indices)
                    if out is StopIteration:
                        kind, out, stream = "stop", None, None
                else:
                    out = fetch(indices)
                payload = _dumps(out)
                out = None
            except Exception:
                kind, payload = "error", _error(where)
        result_queue.put((worker_id, epoch, task, kind, payload))
