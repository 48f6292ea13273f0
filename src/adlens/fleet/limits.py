"""Rate limits that hold across a fleet: one token bucket per name in Redis, taken atomically.

Each request runs :data:`TOKEN_BUCKET` (a Lua script, by EVALSHA: one round trip),
which refills the bucket by the time passed on Redis's own clock (so hosts' clocks do
not matter), takes a token when there is one, and answers how many there were. The
semantics are :class:`~adlens.api.limits.RateLimiter`'s: ``rate`` a second on average,
``burst`` at once, the same 429 and ``Retry-After``. A bucket expires once it would have
refilled, so invented names cost Redis no memory for long.

When Redis is unreachable the limiter **fails open to per-process buckets**: each
worker limits with its own bucket (the behaviour without Redis), logs the outage once,
and tries Redis again every :data:`~adlens.fleet.client.RETRY_SECONDS`. Refusing every
request (fail closed) would turn a Redis outage into an outage of every screen;
letting every request through would drop the limit altogether.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from adlens.api.limits import RateLimiter
from adlens.fleet.client import Outage, redis_errors

if TYPE_CHECKING:
    from adlens.fleet.client import Fleet

#: KEYS[1]: the bucket; ARGV: rate a second, burst, 1 to take a token (0 to look only).
#: Returns the tokens there were before taking, as text (Redis would truncate a Lua number).
TOKEN_BUCKET = """
if redis.replicate_commands then redis.replicate_commands() end
local rate, burst, take = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = burst
else
  tokens = math.min(burst, tokens + math.max(now - tonumber(state[2]), 0) * rate)
end
if take then
  local left = tokens
  if left >= 1 then left = left - 1 end
  redis.call('HSET', KEYS[1], 'tokens', tostring(left), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - left) / rate * 1000) + 1000)
end
return tostring(tokens)
"""


class SharedRateLimiter(RateLimiter):
    """A :class:`~adlens.api.limits.RateLimiter` whose buckets live in Redis, shared by every worker and host.

    Args:
        fleet: the Redis client and prefix.
        rate, burst: as :class:`~adlens.api.limits.RateLimiter`.
        kind: the buckets' family in Redis (``"key"``, ``"address"``): names of two limiters never mix.
        what: how a refusal names the limited party.
    """

    def __init__(self, fleet: Fleet, rate: float, burst: int, *, kind: str, what: str = "this API key",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(rate, burst, clock, what=what)
        self.fleet, self.kind = fleet, kind
        self._script = fleet.client.register_script(TOKEN_BUCKET)
        self._errors = redis_errors()
        self.outage = Outage(f"the rate limits ({kind})", "each worker limits with its own buckets")

    def _shared(self, name: str, take: bool) -> float | None:
        """The tokens ``name`` had in Redis (one taken when ``take``), or ``None`` when Redis is unusable."""
        if not self.outage.usable():
            return None
        try:
            found = self._script(keys=[self.fleet.key("rate", self.kind, name)],
                                 args=[repr(self.rate), self.burst, int(take)])
        except self._errors as error:
            self.outage.failed(error)
            return None
        self.outage.succeeded()
        return float(found)

    def check(self, name: str) -> None:
        if self.rate <= 0:
            return
        tokens = self._shared(name, take=False)
        if tokens is None:
            super().check(name)
        elif tokens < 1.0:
            raise self._refuse(tokens)

    def hit(self, name: str) -> None:
        if self.rate <= 0:
            return
        tokens = self._shared(name, take=True)
        if tokens is None:
            super().hit(name)
        elif tokens < 1.0:
            raise self._refuse(tokens)
