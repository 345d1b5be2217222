"""QBO's per-realm throttle: sliding windows plus a concurrency counter.

Limits (reference §1): 500 requests per minute and 10 per second per realm (batch calls count
as requests too), 40 batch calls per minute, 10 requests in flight. The "minute" lasts
60 / time_scale seconds, so a benchmark can compress time and still compare its rate with the
ceiling. Requests refused with 429 do not count against the window. All methods are cheap and
lock-protected, so the event loop and test threads can share one instance.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class Throttle:
    def __init__(
        self,
        time_scale: float = 1.0,
        per_minute: int = 500,
        per_second: int = 10,
        batch_per_minute: int = 40,
        concurrent: int = 10,
        clock=time.monotonic,
    ):
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0 (1.0 = real time)")
        self.time_scale = time_scale
        self.per_minute = per_minute
        self.per_second = per_second
        self.batch_per_minute = batch_per_minute
        self.concurrent = concurrent
        self.clock = clock
        self._minute: deque[float] = deque()
        self._second: deque[float] = deque()
        self._batch: deque[float] = deque()
        self.in_flight = 0
        self.accepted = 0
        self.throttled = 0
        self.throttled_by: dict[str, int] = {"minute": 0, "second": 0, "batch": 0, "concurrent": 0}
        self._lock = threading.Lock()

    @property
    def minute_s(self) -> float:
        return 60.0 / self.time_scale

    @staticmethod
    def _trim(window: deque, now: float, span: float) -> None:
        while window and window[0] <= now - span:
            window.popleft()

    def acquire(self, is_batch: bool = False) -> str | None:
        """Admit a request (return None) or name the limit it hits. Admitted requests must release()."""
        with self._lock:
            now = self.clock()
            self._trim(self._minute, now, self.minute_s)
            self._trim(self._second, now, 1.0 / self.time_scale)
            self._trim(self._batch, now, self.minute_s)
            reason = None
            if self.in_flight >= self.concurrent:
                reason = "concurrent"
            elif len(self._minute) >= self.per_minute:
                reason = "minute"
            elif self.per_second and len(self._second) >= self.per_second:
                reason = "second"
            elif is_batch and len(self._batch) >= self.batch_per_minute:
                reason = "batch"
            if reason is not None:
                self.throttled += 1
                self.throttled_by[reason] += 1
                return reason
            self._minute.append(now)
            self._second.append(now)
            if is_batch:
                self._batch.append(now)
            self.in_flight += 1
            self.accepted += 1
            return None

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def stats(self) -> dict:
        with self._lock:
            return {
                "accepted": self.accepted,
                "throttled": self.throttled,
                "throttled_by": dict(self.throttled_by),
                "in_flight": self.in_flight,
                "limits": {
                    "per_minute": self.per_minute,
                    "per_second": self.per_second,
                    "batch_per_minute": self.batch_per_minute,
                    "concurrent": self.concurrent,
                    "minute_s": self.minute_s,
                },
            }
