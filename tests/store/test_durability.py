"""Durability: a writer killed with SIGKILL mid-burst loses no write it acknowledged, on SQLite and PostgreSQL.

A child process writes feedback, decisions with their rewards, and batch imports, and
prints one line per write only after its transaction committed. The test kills it with
SIGKILL once it is well into the burst, reopens the store, and finds every printed write.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from adlens.audience import FEATURE_NAMES
from adlens.products.types import Aspects, Product
from adlens.store import Store, open_store
from adlens.events import REWARD

#: Acknowledged writes to wait for before the kill (several of each kind).
BURST = 60

WRITER = f"""
import sys
from adlens.decision import Decider
from adlens.products.service import Shop
from adlens.products.types import LIKE, Product
from adlens.store import open_store
from eventlog import decision_event

store = open_store(sys.argv[1])
shop, decider = Shop(store), Decider(store)
features = [0.5] * {len(FEATURE_NAMES)}
print("ready", flush=True)
for n in range(100_000):
    shop.add_feedback(f"f{{n}}", "p1", LIKE, create_customer=True)
    print("feedback", f"f{{n}}", flush=True)
    store.append_event(decision_event(screen="door", decision_id=f"d{{n}}", ad="ad1", features=features))
    print("decision", f"d{{n}}", flush=True)
    decider.reward(f"d{{n}}", 5.0, "dwell")
    print("reward", f"d{{n}}", flush=True)
    if n % 5 == 0:
        with store.transaction() as session:
            for j in range(20):
                store.upsert_product(Product(f"k{{n}}-{{j}}", "imported"), session=session)
        print("import", f"k{{n}}", flush=True)
"""


def _prepare(store: Store) -> None:
    store.upsert_product(Product("p1", "red sneakers", aspects=Aspects(tokens={"red": 1.0, "sneakers": 1.0})))
    store.upsert_ad({"id": "ad1", "name": "ad1"}, [("c1", 0, {"image": "creative.png"}, None)])


def test_a_killed_writer_loses_no_acknowledged_write(store: Store, store_url: str, tmp_path: Path) -> None:
    _prepare(store)
    env = {**os.environ, "ADLENS_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                          str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-c", WRITER, store_url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    acknowledged: list[tuple[str, str]] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() != "ready":
                acknowledged.append(tuple(line.split()))  # type: ignore[arg-type]
            if len(acknowledged) >= BURST:
                break
        child.send_signal(signal.SIGKILL)
        acknowledged += [tuple(line.split()) for line in child.stdout]  # printed before it died: acknowledged too
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    assert len(acknowledged) >= BURST, child.stderr.read() if child.stderr else ""

    store.close()
    with open_store(store_url) as reopened:
        kinds = {kind for kind, _ in acknowledged}
        assert kinds == {"feedback", "decision", "reward", "import"}
        for kind, key in acknowledged:
            if kind == "feedback":
                customer = reopened.get_customer(key)
                assert customer.feedback_count == 1 and len(reopened.feedback_for(key)) == 1, key
            elif kind == "decision":
                assert reopened.decision_event(key).ad_id == "ad1"
            elif kind == "reward":
                assert len(reopened.events(kinds=[REWARD], decision_id=key)) == 1, key
            else:
                assert reopened.has_products({f"{key}-{j}" for j in range(20)}) == {f"{key}-{j}" for j in range(20)}
        rewarded = sum(kind == "reward" for kind, _ in acknowledged)
        pulls = reopened.arm_stats(["ad1"], dims=len(FEATURE_NAMES))["ad1"].pulls
        assert pulls >= rewarded and pulls == len(reopened.events(kinds=[REWARD]))


pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
