"""QBO's per-company rate limits as one limiter per realm, shared by every caller in the process.

Intuit's limits per realm (reference: quickbooks-online-api.md section 1): 500 requests per
minute (batch calls included), 10 per second, 10 concurrent, and 40 batch calls per minute.
The defaults keep some headroom below them: the server counts arrivals in its own window,
and our clock and its clock never agree to the millisecond.

The per-minute and per-second windows are pyrate-limiter sliding-window buckets, plus an even
spacing of 1/requests_per_second between requests; concurrency is a
`threading.BoundedSemaphore`. `time_scale` (env `LEDGERLINK_QBO_TIME_SCALE`) shrinks
the windows so that a sandbox running a compressed minute (`SandboxSettings.time_scale`)
and this limiter agree.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyrate_limiter import AbstractClock, InMemoryBucket, Limiter, Rate

from ledgerlink.db import ConfigurationError

TIME_SCALE_ENV = "LEDGERLINK_QBO_TIME_SCALE"


def time_scale_from_env() -> float:
    raw = os.environ.get(TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value > 10_000:
        raise ConfigurationError(
            f"{TIME_SCALE_ENV} must be a number between 0 and 10000 (1 = real time, 60 = a minute "
            f"lasts a second); got {raw!r}."
        )
    return value


@dataclass(frozen=True)
class QboLimits:
    requests_per_minute: int = 450
    requests_per_second: int = 9
    max_concurrent: int = 10
    # 38 of the 40 allowed: measured 0.95 of the ceiling with no 429s (bench/bench_sender.py);
    # at 40 one early 429 costs a 60-second wait and throughput falls to ~0.6.
    batches_per_minute: int = 38
    time_scale: float = 1.0


class _ClockedBucket(InMemoryBucket):
    """An in-memory bucket reading an injected clock (tests step a fake clock)."""

    def __init__(self, rates: list[Rate], clock: AbstractClock | None):
        super().__init__(rates)
        if clock is not None:
            self._clock = clock


def _window_ms(seconds: float, scale: float) -> int:
    return max(1, round(seconds * 1000 / scale))


class QboRateLimiter:
    """Admits QBO requests for one realm within its per-second, per-minute and concurrency limits."""

    def __init__(self, realm_id: str, limits: QboLimits = QboLimits(), clock: AbstractClock | None = None):
        self.realm_id = realm_id
        self.limits = limits
        minute = _window_ms(60, limits.time_scale)
        second = _window_ms(1, limits.time_scale)
        rates = [Rate(limits.requests_per_minute, minute)]
        # The per-second rate only matters while it is tighter than the per-minute one.
        if limits.requests_per_second < limits.requests_per_minute < limits.requests_per_second * 60:
            rates.insert(0, Rate(limits.requests_per_second, second))
            # And spread them out: a sliding window alone admits the second's requests as one
            # burst, and when the previous burst reached the server late (a new TLS connection,
            # a busy host) both land in one server-side second -> 429. Measured against the
            # sandbox at real time: 8 throttles in 60 s with bursts, none with even spacing.
            spacing = second // limits.requests_per_second
            if spacing >= 1:
                rates.insert(0, Rate(1, spacing))
        self._requests = Limiter(_ClockedBucket(rates, clock))
        self._batches = Limiter(_ClockedBucket([Rate(limits.batches_per_minute, minute)], clock))
        self._concurrency = threading.BoundedSemaphore(limits.max_concurrent)
        self._poll_s = max(0.001, second / 1000 / 20)
        self._count_lock = threading.Lock()
        self.admitted = 0
        self.batches_admitted = 0

    def scaled(self, seconds: float) -> float:
        """A real-world duration in this limiter's time (a 60 s wait at scale 60 is 1 s)."""
        return seconds / self.limits.time_scale

    def acquire(self, *, batch: bool = False, blocking: bool = True) -> bool:
        """Take one request permit (and one batch permit for a batch call).

        Blocking waits until the windows have room. Non-blocking returns False at once when
        they don't. The (scarcer) batch permit is taken first, so a batch call refused for
        want of one uses up no request permit; non-blocking, a batch permit taken just before
        the request windows refuse stays used (pyrate-limiter has no give-back).
        """
        if batch and not self._take(self._batches, blocking):
            return False
        if not self._take(self._requests, blocking):
            return False
        with self._count_lock:
            self.admitted += 1
            self.batches_admitted += int(batch)
        return True

    def _take(self, limiter: Limiter, blocking: bool) -> bool:
        # pyrate-limiter's own blocking mode advances the item's timestamp by the planned sleep
        # rather than reading the clock again, so an oversleeping thread (a busy machine) is
        # recorded earlier than it really sends, and bursts reach the server inside its window.
        # Polling non-blocking puts stamps every admission with the real time.
        while not limiter.try_acquire(self.realm_id, blocking=False):
            if not blocking:
                return False
            time.sleep(self._poll_s)
        return True

    @contextmanager
    def slot(self, *, batch: bool = False) -> Iterator[None]:
        """Hold one of the concurrent-request slots and a rate permit for one HTTP call."""
        with self._concurrency:
            self.acquire(batch=batch)
            yield


_registry: dict[tuple[str, QboLimits], QboRateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(realm_id: str, limits: QboLimits | None = None) -> QboRateLimiter:
    """The process-wide limiter of `realm_id` (created on first use).

    Callers asking with the same limits share one limiter; the limits are part of the key
    so a test running the same realm id at another time scale does not inherit windows.
    """
    limits = limits or QboLimits(time_scale=time_scale_from_env())
    key = (realm_id, limits)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = QboRateLimiter(realm_id, limits)
        return limiter
