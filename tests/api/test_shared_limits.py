"""Rate limits shared in Redis: one bucket per name across workers, today's semantics, local when Redis is down."""

from __future__ import annotations

import logging

import pytest

from adlens.api.limits import RateLimiter
from adlens.errors import RateLimitedError
from adlens.api.shared_limits import SharedRateLimiter


def hits(limiter, name: str, n: int) -> int:
    """How many of ``n`` hits for ``name`` ``limiter`` allows."""
    allowed = 0
    for _ in range(n):
        try:
            limiter.hit(name)
            allowed += 1
        except RateLimitedError:
            pass
    return allowed


@pytest.mark.parametrize("burst", [1, 3, 10])
def test_a_burst_is_shared_by_every_worker(fleet, burst: int) -> None:
    workers = [SharedRateLimiter(fleet, 0.001, burst, kind="key") for _ in range(2)]
    allowed = sum(hits(workers[i % 2], "k1", 1) for i in range(3 * burst))
    assert allowed == burst
    with pytest.raises(RateLimitedError, match="at most 0.001 per second") as refused:
        workers[1].hit("k1")
    assert refused.value.retry_after > 900  # a token takes 1000 s at this rate
    assert hits(workers[0], "k2", burst + 1) == burst  # each name has its own bucket


def test_check_takes_nothing_and_kinds_do_not_mix(fleet) -> None:
    keys = SharedRateLimiter(fleet, 0.001, 2, kind="key")
    addresses = SharedRateLimiter(fleet, 0.001, 2, kind="address", what="a client address")
    for _ in range(5):
        keys.check("x")
    assert hits(keys, "x", 3) == 2
    with pytest.raises(RateLimitedError, match="this API key"):
        keys.check("x")
    addresses.check("x")  # the same name in another family
    assert hits(addresses, "x", 3) == 2
    with pytest.raises(RateLimitedError, match="a client address"):
        addresses.check("x")


def test_a_bucket_refills_at_the_rate_and_expires_once_full(fleet) -> None:
    limiter = SharedRateLimiter(fleet, 10.0, 5, kind="key")
    assert hits(limiter, "k", 6) == 5
    key = fleet.key("rate", "key", "k")
    assert 0 < fleet.client.pttl(key) <= 1000 + 500  # refilled in 0.5 s, kept 1 s more
    # Half a second earlier on Redis's clock: 5 tokens back (capped at the burst), not 5.x.
    at = float(fleet.client.hget(key, "at"))
    fleet.client.hset(key, "at", repr(at - 0.5))
    assert hits(limiter, "k", 7) == 5


@pytest.mark.parametrize("shared", [True, False])
def test_admit_checks_the_address_and_takes_the_keys_token_in_one_step(fleet, shared: bool) -> None:
    def limiter(burst: int, kind: str) -> RateLimiter:
        return SharedRateLimiter(fleet, 0.001, burst, kind=kind, what=kind) if shared else \
            RateLimiter(0.001, burst, what=kind)

    keys, addresses = limiter(3, "key"), limiter(1, "address")
    calls = []
    if shared:
        real = keys._script
        keys._script = lambda **kwargs: calls.append(kwargs) or real(**kwargs)
    keys.admit("k", after=(addresses, "a"))
    assert len(calls) == int(shared)  # one round trip for both
    addresses.hit("a")  # the address's budget is spent: the next admission takes nothing from the key
    with pytest.raises(RateLimitedError, match="address"):
        keys.admit("k", after=(addresses, "a"))
    assert hits(keys, "k", 5) == 2  # 3 - the one admitted
    with pytest.raises(RateLimitedError, match="key"):
        keys.admit("k", after=(addresses, "b"))


def test_admit_with_the_address_limit_off_counts_the_key_alone(fleet) -> None:
    keys = SharedRateLimiter(fleet, 0.001, 2, kind="key")
    off = SharedRateLimiter(fleet, 0, 1, kind="address")
    keys.admit("k")
    keys.admit("k", after=(off, "a"))
    with pytest.raises(RateLimitedError):
        keys.admit("k", after=(off, "a"))
    assert not fleet.client.exists(fleet.key("rate", "address", "a"))


def test_rate_zero_is_no_limit(fleet) -> None:
    limiter = SharedRateLimiter(fleet, 0, 1, kind="key")
    assert hits(limiter, "k", 50) == 50
    assert not list(fleet.client.scan_iter(match=f"{fleet.prefix}*"))


def test_unreachable_redis_fails_open_to_per_process_buckets(dead_fleet, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="adlens.fleet"):
        one, two = (SharedRateLimiter(dead_fleet, 0.001, 2, kind="key") for _ in range(2))
        assert hits(one, "k", 4) == 2 and hits(two, "k", 4) == 2  # each worker's own bucket
        with pytest.raises(RateLimitedError):
            one.check("k")
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 2  # once per limiter, not once per request
    assert "each worker limits with its own buckets" in warnings[0]


def test_unreachable_redis_admits_with_this_workers_buckets(dead_fleet) -> None:
    keys = SharedRateLimiter(dead_fleet, 0.001, 2, kind="key")
    addresses = SharedRateLimiter(dead_fleet, 0.001, 1, kind="address", what="a client address")
    keys.admit("k", after=(addresses, "a"))
    addresses.hit("a")
    with pytest.raises(RateLimitedError, match="a client address"):
        keys.admit("k", after=(addresses, "a"))
    keys.admit("k", after=(addresses, "b"))
    with pytest.raises(RateLimitedError, match="this API key"):
        keys.admit("k", after=(addresses, "b"))


@pytest.mark.parametrize(("rate", "in_memory"), [(5.0, False), (0.0, True)])
def test_a_shared_limiter_says_whether_checking_it_asks_redis(fleet, rate: float, in_memory: bool) -> None:
    assert RateLimiter(rate, 10).in_memory  # this worker's buckets: no I/O, so checked on the event loop
    assert SharedRateLimiter(fleet, rate, 10, kind="key").in_memory is in_memory
