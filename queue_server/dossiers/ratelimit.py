"""A token bucket per client, on an injected clock (tests move time instead of sleeping)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol


class MonotonicClock(Protocol):
    def monotonic(self) -> float: ...


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBucket:
    """`per_minute` tokens a minute, at most `burst` saved up; a limiter with per_minute <= 0 lets everything through.

    A request needs a whole token; `charge` takes more afterwards (for not-found answers)
    and may drive a bucket below zero, down to -burst, so guessing codes costs extra waiting.
    """

    def __init__(self, per_minute: float, burst: int, clock: MonotonicClock, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def take(self, key: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds to wait before the next try."""
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self.clock.monotonic()
            bucket = self._bucket(key, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return max(1.0, math.ceil((1.0 - bucket.tokens) / self.rate))

    def charge(self, key: str, tokens: float) -> None:
        """Take `tokens` more after the fact (the answer turned out to be a miss)."""
        if not self.enabled or tokens <= 0:
            return
        with self._lock:
            bucket = self._bucket(key, self.clock.monotonic())
            bucket.tokens = max(-self.burst, bucket.tokens - tokens)

    def refund(self, key: str, tokens: float = 1.0) -> None:
        """Give back what `take` took when the request turned out to be one that should not count
        (a successful login: only failures should slow an account down)."""
        if not self.enabled or tokens <= 0:
            return
        with self._lock:
            bucket = self._bucket(key, self.clock.monotonic())
            bucket.tokens = min(self.burst, bucket.tokens + tokens)

    def _forget_idle(self, now: float) -> None:
        # Full buckets carry no information; if every client is active, drop the longest idle half.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1].at)[: len(self._buckets) // 2]:
                del self._buckets[key]
