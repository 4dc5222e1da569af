"""The token bucket on a fake clock: burst, refill, heavier misses, independence of clients."""

from __future__ import annotations

from motcua.clock import FakeClock
from queue_server.dossiers.ratelimit import TokenBucket


def test_burst_then_refused_with_the_wait_then_refilled_by_time():
    clock = FakeClock()
    bucket = TokenBucket(per_minute=20, burst=10, clock=clock)
    assert [bucket.take("10.0.0.5") for _ in range(10)] == [0.0] * 10
    assert bucket.take("10.0.0.5") == 3  # 20 a minute: one token every 3 seconds
    clock.advance(3)
    assert bucket.take("10.0.0.5") == 0.0
    assert bucket.take("10.0.0.5") > 0


def test_clients_have_separate_buckets():
    clock = FakeClock()
    bucket = TokenBucket(per_minute=20, burst=2, clock=clock)
    assert bucket.take("a") == bucket.take("a") == 0.0
    assert bucket.take("a") > 0
    assert bucket.take("b") == 0.0


def test_charging_misses_makes_the_wait_longer_but_bounded():
    clock = FakeClock()
    bucket = TokenBucket(per_minute=60, burst=5, clock=clock)
    assert bucket.take("guesser") == 0.0
    bucket.charge("guesser", 2)  # 5 - 1 - 2 = 2 left
    assert bucket.take("guesser") == 0.0
    bucket.charge("guesser", 2)  # -1
    assert bucket.take("guesser") == 2  # one token a second: 2 seconds back to one token
    bucket.charge("guesser", 100)
    assert bucket.take("guesser") == 6  # never below -burst: 6 seconds at most
    clock.advance(6)
    assert bucket.take("guesser") == 0.0


def test_a_disabled_limiter_lets_everything_through():
    bucket = TokenBucket(per_minute=0, burst=1, clock=FakeClock())
    assert all(bucket.take("x") == 0.0 for _ in range(1000))


def test_the_number_of_remembered_clients_is_bounded():
    clock = FakeClock()
    bucket = TokenBucket(per_minute=60, burst=1, clock=clock, max_clients=100)
    for i in range(1000):
        bucket.take(f"10.0.{i // 256}.{i % 256}")
    assert len(bucket._buckets) <= 100
