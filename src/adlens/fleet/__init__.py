"""A fleet of API workers and hosts acting as one service, through Redis (``ADLENS_REDIS_URL``).

Optional: without ``ADLENS_REDIS_URL`` nothing here is used and redis-py is never
imported. With it, :func:`~adlens.fleet.client.connect` opens one client that the API
shares between

- :mod:`adlens.api.shared_limits` (in the API, which owns rate limits): one token
  bucket per API key (and per client address failing its key) in Redis, so a key's limit holds across every worker and host;
- :mod:`adlens.fleet.bus`: the store's change notices (its generations) published on
  commit and moved in every other worker at once;
- :mod:`adlens.fleet.screens`: live screens' state (``/v1/decide`` with ``live=true``)
  kept in Redis, so a screen's frames may reach any worker.

When Redis cannot be reached each part falls back to this process's own state (see
docs/fleet.md), logs it once, and tries Redis again a little later.
"""
