"""Synthetic purchases tables for the next-purchase and loyalty tests (importable from every test)."""

from __future__ import annotations

import numpy as np
import pandas as pd

BRANDS = np.array(["Apple", "Samsung", "Xiaomi", "Nokia"], dtype=object)
#: Logit of staying at age 45; every year older adds AGE_SLOPE.
LOYALTY = np.array([1.2, 0.6, 0.0, -0.8])
AGE_SLOPE = 0.03


def true_stay(brand: np.ndarray, age: np.ndarray) -> np.ndarray:
    """The true P(stay) of owners of ``BRANDS[brand]`` at ``age``."""
    return 1 / (1 + np.exp(-(LOYALTY[brand] + AGE_SLOPE * (age - 45))))


def purchases(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A purchases table as text (like a CSV) and each row's true P(stay)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    residence = rng.choice(["city", "town", "village"], n, p=[0.5, 0.3, 0.2])
    brand = rng.choice(len(BRANDS), n, p=[0.35, 0.35, 0.2, 0.1])
    p_stay = true_stay(brand, age)
    # leavers pick among the other brands; city dwellers favour Apple, villagers Nokia
    taste = np.where((residence == "city")[:, None], [3.0, 2, 2, 0.5], [1.0, 2, 2, 1.5])
    taste[np.arange(n), brand] = 0
    taste /= taste.sum(axis=1, keepdims=True)
    other = (taste.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    bought = np.where(rng.random(n) < p_stay, brand, other)
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "age": age.astype(str),
                          "residence": residence, "manufacturer": BRANDS[brand],
                          "next_manufacturer": BRANDS[bought]})
    return frame, p_stay


def table(pairs: dict[tuple[str, str], int], seed: int = 0) -> pd.DataFrame:
    """Rows ``current → next`` repeated as counted, with an age and a residence."""
    rows = [(a, b) for (a, b), n in pairs.items() for _ in range(n)]
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"manufacturer": [a for a, _ in rows], "next_manufacturer": [b for _, b in rows],
                         "age": rng.integers(18, 80, len(rows)).astype(str),
                         "residence": rng.choice(["city", "village"], len(rows))})


#: Counted ``current → next`` pairs of a small table.
PAIRS = {("A", "A"): 6, ("A", "B"): 3, ("A", "C"): 1, ("B", "B"): 2, ("B", "A"): 2, ("D", "C"): 1}
