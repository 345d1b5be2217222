"""The QBO limiter: per-second, per-minute, batch and concurrency limits, in scaled time."""

import threading
import time

import pytest
from pyrate_limiter import AbstractClock

from ledgerlink.clients.ratelimit import QboLimits, QboRateLimiter, limiter_for, time_scale_from_env
from ledgerlink.db import ConfigurationError


class FakeClock(AbstractClock):
    def __init__(self):
        self.ms = 1_000_000

    def now(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)


def run(limiter: QboRateLimiter, clock: FakeClock, seconds: float, *, batch: bool = False,
        step: float = 0.01) -> list[float]:
    """Try one request every `step` seconds for `seconds`; the (fake) times of those admitted."""
    times = []
    for _ in range(round(seconds / step)):
        if limiter.acquire(batch=batch, blocking=False):
            times.append(clock.ms / 1000)
        clock.advance(step)
    return times


def test_requests_are_spread_over_the_second():
    clock = FakeClock()
    limiter = QboRateLimiter("r1", QboLimits(requests_per_minute=100, requests_per_second=3), clock=clock)
    times = run(limiter, clock, 1.0)
    assert len(times) == 3
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= 0.333


def test_per_minute_window():
    clock = FakeClock()
    limiter = QboRateLimiter("r1", QboLimits(requests_per_minute=5, requests_per_second=3), clock=clock)
    first = run(limiter, clock, 10)
    assert len(first) == 5
    assert run(limiter, clock, first[0] + 59.9 - clock.ms / 1000) == []
    assert len(run(limiter, clock, 1.0)) >= 1  # a minute after the first one


def test_time_scale_compresses_the_minute():
    clock = FakeClock()
    limiter = QboRateLimiter("r1", QboLimits(requests_per_minute=5, requests_per_second=3, time_scale=60),
                             clock=clock)
    assert len(run(limiter, clock, 0.9)) == 5
    assert len(run(limiter, clock, 1.0)) == 5  # the next scaled minute
    assert limiter.scaled(60) == pytest.approx(1.0)


def test_batch_calls_have_their_own_budget_and_count_as_requests():
    clock = FakeClock()
    limiter = QboRateLimiter(
        "r1", QboLimits(requests_per_minute=10, requests_per_second=9, batches_per_minute=2), clock=clock
    )
    # One try per request spacing: refused batch calls take no request permit.
    assert len(run(limiter, clock, 5, batch=True, step=0.2)) == 2
    assert len(run(limiter, clock, 5)) == 8  # the minute's 10 requests minus the 2 batch calls
    clock.advance(60)
    assert len(run(limiter, clock, 1, batch=True)) == 1


def test_concurrency_is_capped():
    limiter = QboRateLimiter("r1", QboLimits(max_concurrent=2, time_scale=1000))
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def call():
        nonlocal in_flight, peak
        with limiter.slot():
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1

    threads = [threading.Thread(target=call) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak == 2
    assert limiter.admitted == 6


def test_blocking_acquire_waits_for_room_instead_of_failing():
    limiter = QboRateLimiter("r1", QboLimits(requests_per_minute=4, requests_per_second=2, time_scale=600))
    assert all(limiter.acquire() for _ in range(10))
    assert limiter.admitted == 10


def test_one_limiter_per_realm_and_limits():
    a = limiter_for("realm-x", QboLimits(time_scale=2))
    assert limiter_for("realm-x", QboLimits(time_scale=2)) is a
    assert limiter_for("realm-y", QboLimits(time_scale=2)) is not a
    assert limiter_for("realm-x", QboLimits(time_scale=3)) is not a


def test_time_scale_from_env(monkeypatch):
    monkeypatch.delenv("LEDGERLINK_QBO_TIME_SCALE", raising=False)
    assert time_scale_from_env() == 1.0
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", "60")
    assert time_scale_from_env() == 60.0
    monkeypatch.setenv("LEDGERLINK_QBO_TIME_SCALE", "fast")
    with pytest.raises(ConfigurationError, match="LEDGERLINK_QBO_TIME_SCALE"):
        time_scale_from_env()
