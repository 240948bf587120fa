"""Server-side batching of concurrent predict calls (``--enable_batching``), as TF Serving does.

Concurrent requests to the same version and signature are queued, concatenated along
dimension 0, run once and split back, so each request gets exactly its own rows. The knobs
are TF Serving's ``BatchingParameters`` with its defaults: ``max_batch_size`` rows per batch,
``batch_timeout_micros`` the longest the first request waits for company,
``num_batch_threads`` batches run at once, ``max_enqueued_batches`` before new requests are
refused with UNAVAILABLE (load shedding).

One deliberate difference: TF Serving's BatchingSession rejects rank-0 inputs ("Batching Run()
input tensors must have at least one dimension"). Here inputs that are not batched (rank 0, such
as rtrec's ``k``, or a fixed first dimension) are part of the batch key: only requests whose
non-batch inputs are equal, and whose batched inputs agree beyond dimension 0, share a batch.
Written by hand: TF's own batching lives in C++ sessions that Python cannot wrap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from serving.model_server.errors import ServingError, invalid_argument
from serving.model_server.tensors import InputSpec

Tensors = dict[str, np.ndarray]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchingOptions:
    """TF Serving's BatchingParameters, with TF Serving's defaults for unset fields."""

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = 4

    @classmethod
    def from_proto(cls, params) -> BatchingOptions:
        """From a ``BatchingParameters`` message (each wrapper field optional)."""
        values = {}
        for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches"):
            if params.HasField(name):
                values[name] = getattr(params, name).value
        if params.HasField("num_batch_threads"):
            values["num_batch_threads"] = params.num_batch_threads.value
        options = cls(**values)
        if min(options.max_batch_size, options.num_batch_threads, options.max_enqueued_batches) < 1:
            raise ValueError(f"batching parameters must be positive: {options}")
        return options


@dataclass(eq=False)  # identity: tasks hold arrays, which have no truth value to compare
class _Task:
    inputs: Tensors
    size: int
    key: tuple
    enqueued: float
    future: Future = field(default_factory=Future)


def batch_inputs(specs: Mapping[str, InputSpec]) -> set[str]:
    """Inputs concatenated along dimension 0: those whose signature leaves dimension 0 open."""
    return {n for n, s in specs.items() if s.shape is None or (s.shape and s.shape[0] is None)}


class Batcher:
    """The batching queue of one (version, signature)."""

    def __init__(
        self,
        run: Callable[[Tensors], Tensors],
        batched: set[str],
        options: BatchingOptions,
        on_batch: Callable[[int, int], None] = lambda rows, tasks: None,
    ) -> None:
        self._run = run
        self._batched = batched
        self._options = options
        self._on_batch = on_batch
        self._queue: list[_Task] = []
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"batch-{i}", daemon=True)
            for i in range(options.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, inputs: Tensors) -> Tensors:
        """Run ``inputs`` as part of a batch; blocks until this request's rows are back."""
        task = self._task(inputs)
        limit = self._options.max_batch_size * self._options.max_enqueued_batches
        with self._cond:
            if self._closed:
                raise ServingError("UNAVAILABLE", "This version is being unloaded; retry.")
            if self._queued_rows + task.size > limit:
                raise ServingError(
                    "UNAVAILABLE",
                    "The batch scheduling queue to which this task was submitted is full",
                )
            self._queue.append(task)
            self._queued_rows += task.size
            self._cond.notify_all()
        return task.future.result()

    def _task(self, inputs: Tensors) -> _Task:
        sizes = {inputs[n].shape[0] if inputs[n].ndim else None for n in self._batched}
        if None in sizes:
            raise invalid_argument("Batching Run() input tensors must have at least one dimension")
        if len(sizes) > 1:
            raise invalid_argument(
                "Batching Run() input tensors must have equal 0th-dimension size"
            )
        size = sizes.pop()
        if size > self._options.max_batch_size:
            raise invalid_argument(
                f"Task size {size} is larger than maximum input batch size "
                f"{self._options.max_batch_size}"
            )
        key = []
        for name in sorted(inputs):
            array = inputs[name]
            if name in self._batched:
                key.append((name, array.dtype.str, array.shape[1:]))
            else:
                key.append((name, array.dtype.str, array.shape, tuple(array.ravel().tolist())))
        return _Task(inputs, size, tuple(key), time.monotonic())

    def _work(self) -> None:
        while True:
            try:
                batch = self._next_batch()
            except Exception as error:  # a bug here must not leave requests waiting for ever
                log.exception("batch thread failed; failing the queued requests")
                with self._cond:
                    queued, self._queue, self._queued_rows = self._queue, [], 0
                for task in queued:
                    task.future.set_exception(error)
                continue
            if batch is None:
                return
            self._execute(batch)

    def _next_batch(self) -> list[_Task] | None:
        timeout = self._options.batch_timeout_micros / 1e6
        limit = self._options.max_batch_size
        with self._cond:
            while True:
                if self._closed and not self._queue:
                    return None
                if not self._queue:
                    self._cond.wait()
                    continue
                first = self._queue[0]
                rows = sum(t.size for t in self._queue if t.key == first.key)
                wait = first.enqueued + timeout - time.monotonic()
                if rows >= limit or wait <= 0 or self._closed:
                    break
                self._cond.wait(wait)
            batch, rest, total = [], [], 0
            for task in self._queue:
                if task.key == first.key and total + task.size <= limit:
                    batch.append(task)
                    total += task.size
                else:
                    rest.append(task)
            self._queue = rest
            self._queued_rows -= total
            return batch

    def _execute(self, batch: list[_Task]) -> None:
        total = sum(t.size for t in batch)
        try:
            first = batch[0].inputs
            merged = {
                n: np.concatenate([t.inputs[n] for t in batch]) if n in self._batched else v
                for n, v in first.items()
            }
            outputs = self._run(merged)
            for name, value in outputs.items():
                if np.ndim(value) == 0:
                    raise invalid_argument("Batched output tensor has 0 dimensions")
                if value.shape[0] != total:
                    raise invalid_argument(
                        f"Batched output tensor {name!r}'s 0th dimension ({value.shape[0]}) does "
                        f"not equal the sum of the 0th dimension sizes of the inputs ({total})"
                    )
        except Exception as error:  # every waiting request must hear about the failure
            for task in batch:
                task.future.set_exception(error)
            return
        self._on_batch(total, len(batch))
        offset = 0
        for task in batch:
            end = offset + task.size
            task.future.set_result({n: v[offset:end] for n, v in outputs.items()})
            offset = end

    def queued_rows(self) -> int:
        """Rows waiting for a batch thread."""
        with self._cond:
            return self._queued_rows

    def close(self) -> None:
        """Finish what is queued, then stop the batch threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)
