"""Simulated time for bench.hot_event: many requests in flight, exactly one running at a time.

Each request runs the real code in a thread of its own (a Lambda instance); the scheduler resumes the one with
the smallest simulated wake-up time (ties in the order they were scheduled), which runs until it waits on the
simulated clock (a store call's latency, a retry's pause) or ends. One thread at a time makes a run repeat
exactly with the same seed, and keeps moto, whose transactions are not thread-safe, on one thread at a time."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()


class Worker:
    """One thread that runs jobs when the scheduler resumes it."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.go = threading.Semaphore(0)
        self.job: tuple[Callable[[], Any], Callable[[Any, BaseException | None], None]] | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        _local.worker = self
        while True:
            self.go.acquire()
            assert self.job is not None
            work, done = self.job
            self.job = None
            result: Any = None
            error: BaseException | None = None
            try:
                result = work()
            except BaseException as exc:  # noqa: BLE001 - reported to the job's owner, never lost
                error = exc
            scheduler = self.scheduler
            scheduler.at(scheduler.now, lambda r=result, e=error, d=done: d(r, e))
            scheduler.idle.append(self)
            scheduler.back.release()

    def resume(self) -> None:
        """Run this worker until it waits or ends (called on the scheduler's thread)."""
        self.go.release()
        self.scheduler.back.acquire()


class Scheduler:
    """A simulated clock (`now`, seconds) and the queue of what happens next."""

    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self.back = threading.Semaphore(0)
        self.idle: list[Worker] = []
        self.workers = 0

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run `action` on the scheduler's thread at `when` (not before now)."""
        heapq.heappush(self._queue, (max(when, self.now), next(self._order), action))

    def after(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action` `delay` seconds from now."""
        self.at(self.now + delay, action)

    def spawn(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        """Start `work` now in a worker thread; `done(result, error)` runs on the scheduler's thread after it."""
        worker = self.idle.pop() if self.idle else self._new_worker()
        worker.job = (work, done)
        self.at(self.now, worker.resume)

    def _new_worker(self) -> Worker:
        self.workers += 1
        return Worker(self)

    def pending(self) -> int:
        """How many actions are scheduled."""
        return len(self._queue)

    def sleep(self, seconds: float) -> None:
        """From a worker: wait `seconds` of simulated time (other work runs meanwhile)."""
        worker: Worker = _local.worker
        self.at(self.now + max(0.0, seconds), worker.resume)
        self.back.release()
        worker.go.acquire()

    def run(self, until: float = float("inf")) -> bool:
        """Run what is due up to `until`; True when nothing is left to run."""
        while self._queue:
            when, _, action = self._queue[0]
            if when > until:
                self.now = until
                return False
            heapq.heappop(self._queue)
            self.now = when
            action()
        return True


def in_worker() -> bool:
    """True on a worker's thread."""
    return getattr(_local, "worker", None) is not None


@contextmanager
def simulated_time(scheduler: Scheduler) -> Iterator[None]:
    """While the block runs, time.sleep and time.monotonic on a worker's thread are the simulated clock's
    (botocore's retry pauses, the conflict retries' pauses, the request's store budget); elsewhere real."""
    real_sleep, real_monotonic = time.sleep, time.monotonic

    def sleep(seconds: float) -> None:
        if in_worker():
            scheduler.sleep(seconds)
        else:
            real_sleep(seconds)

    def monotonic() -> float:
        return scheduler.now if in_worker() else real_monotonic()

    time.sleep, time.monotonic = sleep, monotonic  # type: ignore[assignment]
    try:
        yield
    finally:
        time.sleep, time.monotonic = real_sleep, real_monotonic  # type: ignore[assignment]
