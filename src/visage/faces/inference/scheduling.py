"""Who runs face inference next in this process, and how many at once.

Every request runs in its own thread; left alone, twenty frames arriving together would share
the cores twenty ways and all finish late. The gate lets as many analyses run as there are
cores and queues the others by priority: a kiosk frame (someone waiting at the door) goes
before a selfie search or an enrollment, and those before background work. A priority is a
head start, not a wall: the queue is ordered by arrival plus the priority's slack, so a selfie
search lets kiosk frames that arrive up to half a second after it go first, and is not starved
while frames keep coming (under strict priority a saturated gate timed searches out at 30 s).
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum


class Priority(IntEnum):
    KIOSK = 0  # a person at the door
    INTERACTIVE = 1  # a user waiting on a page: selfie search, enrollment, verification
    BACKGROUND = 2  # jobs: indexing event photos


# How long a request may wait for others of a higher priority that arrived after it.
SLACK_SECONDS = {Priority.KIOSK: 0.0, Priority.INTERACTIVE: 0.5, Priority.BACKGROUND: 5.0}


class InferenceGate:
    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._running = 0
        self._waiting: list[tuple[float, int]] = []  # (arrival + slack, ticket), a heap
        self._tickets = itertools.count()
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, priority: Priority) -> Iterator[None]:
        with self._changed:
            turn = (time.monotonic() + SLACK_SECONDS[priority], next(self._tickets))
            heapq.heappush(self._waiting, turn)
            self._changed.wait_for(lambda: self._running < self.slots and self._waiting[0] == turn)
            heapq.heappop(self._waiting)
            self._running += 1
            # The next in line may also fit in a free slot.
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    @property
    def waiting(self) -> int:
        with self._changed:
            return len(self._waiting)


# One analysis per core: the ONNX sessions and dlib's HOG each run single-threaded per call
# (FACE_THREADS splits the cores between processes), so more at once only interleave.
gate = InferenceGate(len(os.sched_getaffinity(0)))
