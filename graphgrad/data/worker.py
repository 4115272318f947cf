"""Worker processes for `DataLoader(num_workers > 0)`: batches fetched in parallel, yielded in order.

Each worker is a real process (`multiprocessing`, the platform's default start method or the
loader's `multiprocessing_context`) with its own index queue; all send their batches back on one
result queue, tagged with the batch number, and the main process yields them in sampler order.
At most `prefetch_factor` batches per worker are in flight. A worker's exception comes back to
the main process and is raised there, naming the worker, its pid, the dataset index and the
worker's traceback; a worker that dies (killed, crashed) is detected within a second. Workers
stop when the epoch ends (or the iterator is dropped), or, with `persistent_workers=True`, when
the loader is garbage-collected; they also exit if the main process disappears.

In a worker, `get_worker_info()` tells the worker's id, count, seed and dataset copy. Each worker
seeds Python's `random` and NumPy's global `np.random` with its own seed (PyTorch leaves NumPy's
identical in every worker, a classic source of repeated augmentations), and the random transforms
of `graphgrad.datasets.transforms` draw per-worker streams.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import random
import signal
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np

_POLL_S = 0.5  # how often a waiting main process checks that its workers are alive


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (PyTorch's `get_worker_info()`)."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's id, num_workers, seed and dataset in a DataLoader worker process; None in the main process."""
    return _worker_info


def _worker_loop(info: WorkerInfo, fetch: Callable, init_fn, tasks, results, parent: int) -> None:
    global _worker_info
    _worker_info = info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    results.cancel_join_thread()  # at shutdown, undelivered batches are not wanted: never block on them
    random.seed(info.seed)
    np.random.seed(info.seed % 2 ** 32)
    try:
        if init_fn is not None:
            init_fn(info.id)
    except Exception as err:  # every task this worker gets reports it
        failure = _describe(err, info.id, "in worker_init_fn")
    else:
        failure = None
    while True:
        try:
            task = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # the main process is gone
                return
            continue
        if task is None:
            return
        epoch, number, indices = task
        if failure is not None:
            reply = (False, failure)
        else:
            try:
                reply = (True, fetch(indices))
            except Exception as err:
                reply = (False, _describe(err, info.id, fetch.where(indices)))
        try:  # pickled here, not in the queue's thread, where a failure would be lost and the main process wait
            message = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as err:
            message = pickle.dumps((False, _describe(err, info.id, f"sending batch {number} to the main process "
                                                                   f"(a batch must be picklable)")))
        results.put((epoch, number, message))


def _describe(err: Exception, worker: int, where: str) -> tuple:
    """(the exception's type, or RuntimeError if it cannot travel; the message; the traceback)."""
    try:
        kind = pickle.loads(pickle.dumps(type(err)))
    except Exception:
        kind = RuntimeError
    text = f"DataLoader worker {worker} (pid {os.getpid()}) failed {where}: {type(err).__name__}: {err}"
    return kind, text, traceback.format_exc()


class _Message(str):
    """A message that KeyError prints as it is (KeyError shows its argument's repr)."""

    def __repr__(self) -> str:
        return str(self)


def _reraise(failure: tuple):
    kind, text, trace = failure
    message = _Message(f"{text}\n\nTraceback in the worker:\n{trace}")
    try:
        raised = kind(message)
    except Exception:  # an exception type that takes other arguments
        raised = RuntimeError(message)
    raise raised from None


class WorkerPool:
    """`num_workers` processes that run `fetch(indices)`; `imap` yields the results in order."""

    def __init__(self, fetch: Callable, dataset, num_workers: int, base_seed: int, worker_init_fn=None,
                 context=None, timeout: float = 0, prefetch_factor: int = 2):
        """Start the worker processes now."""
        ctx = multiprocessing.get_context(context) if context is None or isinstance(context, str) else context
        self.timeout, self.prefetch = timeout, prefetch_factor * num_workers
        self.epoch = 0
        self.results = ctx.Queue()
        self.tasks = [ctx.Queue() for _ in range(num_workers)]
        self.workers = []
        for i, tasks in enumerate(self.tasks):
            info = WorkerInfo(i, num_workers, base_seed + i, dataset)
            worker = ctx.Process(target=_worker_loop, args=(info, fetch, worker_init_fn, tasks, self.results,
                                                           os.getpid()), daemon=True)
            worker.start()
            self.workers.append(worker)
        self.closed = False

    def imap(self, index_batches: Iterable) -> Iterator:
        """Fetch every batch of indices in the workers, round robin; yield the batches in order."""
        self.epoch += 1
        epoch, batches = self.epoch, iter(index_batches)
        sent = done = 0
        ready: dict[int, Any] = {}

        def send_more() -> None:
            nonlocal sent
            while sent - done < self.prefetch:
                indices = next(batches, None)
                if indices is None:
                    return
                self.tasks[sent % len(self.tasks)].put((epoch, sent, indices))
                sent += 1

        send_more()
        while done < sent:
            while done not in ready:
                tag, number, message = self._receive()
                if tag != epoch:
                    continue  # left over from an epoch that was abandoned
                ok, payload = pickle.loads(message)
                if not ok:
                    _reraise(payload)
                ready[number] = payload
            batch = ready.pop(done)
            done += 1
            send_more()
            yield batch

    def _receive(self) -> tuple:
        waited = 0.0
        while True:
            try:
                return self.results.get(timeout=_POLL_S)
            except queue.Empty:
                waited += _POLL_S
            for i, worker in enumerate(self.workers):
                if not worker.is_alive():
                    raise RuntimeError(f"DataLoader worker {i} (pid {worker.pid}) exited unexpectedly with exit "
                                       f"code {worker.exitcode}")
            if self.timeout and waited >= self.timeout:
                raise RuntimeError(f"DataLoader timed out after {self.timeout} s waiting for a batch from its workers")

    def shutdown(self) -> None:
        """Stop every worker (a clean exit, else terminate after 5 s) and close the queues."""
        if self.closed:
            return
        self.closed = True
        for tasks in self.tasks:
            tasks.put(None)
        deadline = time.monotonic() + 5.0
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.terminate()
                worker.join(1.0)
        for q in (*self.tasks, self.results):
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        if hasattr(self, "closed"):  # not if __init__ failed before the workers existed
            self.shutdown()
