"""Rate limits that hold across a fleet: one token bucket per name in Redis, taken atomically.

Each request runs :data:`TOKEN_BUCKETS` (a Lua script, by EVALSHA: one round trip),
which refills the buckets by the time passed on Redis's own clock (so hosts' clocks do
not matter), and takes a token when there is one: the client address's budget of
failed key checks is looked at and the key's token taken in the same call
(:meth:`SharedRateLimiter.admit`). The semantics are
:class:`~adlens.api.limits.RateLimiter`'s: ``rate`` a second on average, ``burst`` at
once, the same 429 and ``Retry-After``. A bucket expires once it would have
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

#: KEYS: buckets; ARGV: per bucket its rate a second, burst, and 1 to take a token (0 to look only).
#: Every bucket is refilled and looked at in order; the first without a token refuses and nothing is
#: taken from any. Returns ``{0, ""}`` when all had one (taken where asked), else ``{i, tokens of bucket i}``
#: (as text: Redis would truncate a Lua number).
TOKEN_BUCKETS = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local found = {}
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1])
  if tokens == nil then
    tokens = burst
  else
    tokens = math.min(burst, tokens + math.max(now - tonumber(state[2]), 0) * rate)
  end
  if tokens < 1 then return {i, tostring(tokens)} end
  found[i] = tokens
end
for i, key in ipairs(KEYS) do
  if ARGV[3 * i] == '1' then
    local rate, burst, left = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), found[i] - 1
    redis.call('HSET', key, 'tokens', tostring(left), 'at', tostring(now))
    redis.call('PEXPIRE', key, math.ceil((burst - left) / rate * 1000) + 1000)
  end
end
return {0, ''}
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
        self._script = fleet.client.register_script(TOKEN_BUCKETS)
        self._errors = redis_errors()
        self.outage = Outage(f"the rate limits ({kind})", "each worker limits with its own buckets")

    @property
    def in_memory(self) -> bool:
        return self.rate <= 0  # a rate of 0 limits nothing, so Redis is never asked

    def _bucket(self, name: str, take: bool) -> tuple[str, list[str | int]]:
        return self.fleet.key("rate", self.kind, name), [repr(self.rate), self.burst, int(take)]

    def _run(self, steps: list[tuple[SharedRateLimiter, str, bool]]) -> bool:
        """Run ``steps`` (limiter, name, take?) in one script: ``False`` when Redis is unusable (nothing done);
        the refusing step's :class:`~adlens.errors.RateLimitedError` when one has no token."""
        steps = [step for step in steps if step[0].rate > 0]
        if not steps:
            return True
        if not self.outage.usable():
            return False
        keys: list[str] = []
        args: list[str | int] = []
        for limiter, name, take in steps:
            key, values = limiter._bucket(name, take)
            keys.append(key)
            args += values
        try:
            refused, tokens = self._script(keys=keys, args=args)
        except self._errors as error:
            self.outage.failed(error)
            return False
        self.outage.succeeded()
        if int(refused):
            raise steps[int(refused) - 1][0]._refuse(float(tokens))
        return True

    def check(self, name: str) -> None:
        if not self._run([(self, name, False)]):
            super().check(name)

    def hit(self, name: str) -> None:
        if not self._run([(self, name, True)]):
            super().hit(name)

    def admit(self, name: str, after: tuple[RateLimiter, str] | None = None) -> None:
        """As :meth:`RateLimiter.admit <adlens.api.limits.RateLimiter.admit>`; with ``after`` shared in the
        same Redis, one round trip."""
        other = after[0] if after is not None else None
        if after is None or not (isinstance(other, SharedRateLimiter) and other.fleet is self.fleet):
            super().admit(name, after)
        elif not self._run([(other, after[1], False), (self, name, True)]):
            RateLimiter.check(other, after[1])  # Redis is unusable: both fall back to this worker's buckets
            RateLimiter.hit(self, name)
