"""One bandit arm's sufficient statistics, and their byte form in the store.

Kept apart from :mod:`adlens.ads.bandit` so the store can read and write arms without
importing scikit-learn (which importing the CLI must not do).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FLOAT = np.dtype("<f8")  # what the store keeps: float64, little-endian, on every platform


@dataclass(eq=False)  # arrays: compare with numpy, not ==
class ArmStats:
    """One arm's sufficient statistics: ``A`` (d × d), ``b`` (d), how often it was pulled, its reward sum."""

    A: np.ndarray
    b: np.ndarray
    pulls: int = 0
    reward_sum: float = 0.0

    @classmethod
    def prior(cls, dims: int, ridge: float = 1.0) -> ArmStats:
        """An arm never pulled: ``A = ridge·I``, ``b = 0``."""
        return cls(np.eye(dims) * float(ridge), np.zeros(dims))

    @property
    def dims(self) -> int:
        return int(self.b.shape[0])

    def update(self, X: np.ndarray, rewards: np.ndarray) -> None:
        """Add the rows of ``X`` (n × d) with their ``rewards`` (n) to the statistics, in place."""
        self.A = self.A + X.T @ X
        self.b = self.b + X.T @ rewards
        self.pulls += int(X.shape[0])
        self.reward_sum += float(np.sum(rewards))

    def to_bytes(self) -> tuple[bytes, bytes]:
        """``(A, b)`` as float64 little-endian bytes, the store's format."""
        return self.A.astype(_FLOAT).tobytes(), self.b.astype(_FLOAT).tobytes()

    @classmethod
    def from_bytes(cls, dims: int, a_bytes: bytes, b_bytes: bytes, pulls: int = 0, reward_sum: float = 0.0) -> ArmStats:
        """The inverse of :meth:`to_bytes`; ``ValueError`` when the sizes do not fit ``dims``."""
        if len(a_bytes) != dims * dims * 8 or len(b_bytes) != dims * 8:
            raise ValueError(f"arm statistics of {len(a_bytes)} + {len(b_bytes)} bytes do not fit {dims} dimensions")
        A = np.frombuffer(a_bytes, dtype=_FLOAT).reshape(dims, dims).astype(np.float64)
        b = np.frombuffer(b_bytes, dtype=_FLOAT).astype(np.float64)
        return cls(A, b, int(pulls), float(reward_sum))
