"""``adlens demo``: a whole shop on built-in defaults, end to end.

It builds a fresh demo store (SQLite inside the output folder, never the user's own)
with a drawn catalogue and ad inventory, writes the built-in sample pictures, runs
analyse → decide on each and writes them annotated with the chosen ad. Then it plays
a simulated day on two screens — the sample audiences at different hours, viewers
who dwell longer on ads that suit them — so the bandit has rewards to learn from and
the HTML report has something to show. Last, the offers part
(:mod:`adlens.demo.offers`): a simulated telecom campaign, its uplift model, report and
targeting list, and the brand-loyalty report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adlens.demo.offers import OffersResult, run_offers
from adlens.audience import AudienceSummary
from adlens.imageio import save_image
from adlens.samples import SAMPLES, sample_image
from adlens.settings import Settings, get_settings
from adlens.times import utcnow

if TYPE_CHECKING:
    from adlens.audience import Audience
    from adlens.decision import Decider

DEMO_DB = "adlens-demo.db"
SCREENS = ("entrance", "window")


@dataclass
class PictureResult:
    """One sample picture's decision."""

    name: str
    picture: Path
    annotated: Path
    faces: int
    ad: str | None
    creative: str | None
    reasons: list[str]


@dataclass
class DemoResult:
    """Where the demo put everything, and what it decided."""

    folder: Path
    store_url: str
    report: Path
    pictures: list[PictureResult] = field(default_factory=list)
    simulated: int = 0
    mean_reward_first: float = 0.0
    mean_reward_last: float = 0.0
    offers: OffersResult | None = None


def demo_settings(folder: Path, settings: Settings | None = None) -> Settings:
    """The demo's settings: its own store and key inside ``folder``, anonymous mode."""
    base = settings or get_settings()
    return base.model_copy(update={
        "data_dir": folder / "data", "database_url": f"sqlite:///{folder / DEMO_DB}", "mode": "anonymous",
    })


def simulated_dwell(ad: str | None, summary: AudienceSummary, rng: np.random.Generator) -> float:
    """Seconds a simulated audience stays: longer when the ad suits what it wears or how old it is."""
    if ad is None or not summary.faces:
        return 0.0
    attributes = summary.attributes
    liked = {"summer-shades": attributes.get("eyewear", 0), "cap-collection": attributes.get("hat", 0),
             "beard-care": attributes.get("beard", 0), "tees": summary.faces >= 3}
    base = 9.0 if liked.get(ad) else 3.0
    return float(max(0.0, rng.normal(base, 2.0)))


def run_demo(
    folder: Path, settings: Settings | None = None, days: int = 1, per_hour: int = 12, seed: int = 7,
    say: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Run the whole demo into ``folder`` (see the module docstring) and return where things are."""
    from adlens.decision import Decider
    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import load_inventory
    from adlens.ads.lookalike import ModelFaces
    from adlens.annotate import annotate
    from adlens.crypto import EmbeddingCipher
    from adlens.demo.content import write_catalogue, write_inventory
    from adlens.pipeline import Analyzer
    from adlens.products.aspects import AspectExtractor
    from adlens.products.catalog import parse_rows, read_records
    from adlens.products.importer import CatalogImporter
    from adlens.registry import require
    from adlens.reports.html import write_report
    from adlens.store import open_store

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(folder.resolve(), settings)
    for stale in folder.glob(f"{DEMO_DB}*"):  # a fresh store each run: the demo is reproducible
        stale.unlink()
    analyzer = Analyzer(settings, embed=True)
    # On a first run without weights, one error names every file the whole demo needs.
    require([*AspectExtractor.required_models, *analyzer.required_models], settings)
    store = open_store(settings.store_url)
    try:
        say("drawing the demo catalogue and importing it")
        catalogue = write_catalogue(folder / "shop")
        CatalogImporter(store, settings=settings).run(parse_rows(read_records(catalogue), base=catalogue.parent))
        say("loading the models")
        analyzer.load()
        say("importing the ad inventory")
        inventory = load_inventory(write_inventory(folder / "shop"))
        import_inventory(store, inventory, faces=ModelFaces(analyzer, settings), cipher=EmbeddingCipher(settings))
        decider = Decider(store, settings, analyzer=analyzer)

        result = DemoResult(folder, settings.store_url, folder / "report.html")
        opening = _opening(days)  # the sample pictures come just before the simulated day, so the report has no gap
        audiences = {}
        for name in SAMPLES:
            image = sample_image(name)
            picture = folder / "pictures" / f"{name}.png"
            save_image(picture, image)
            audience = decider.analyze(image, SCREENS[0], at=opening - timedelta(minutes=5))
            audiences[name] = audience
            decision = decider.decide(audience, source="demo")
            annotated = folder / "annotated" / f"{name}.png"
            save_image(annotated, annotate(image, audience.faces, title=f"ad: {decision.ad_name or 'no eligible ad'}"))
            result.pictures.append(PictureResult(name, picture, annotated, len(audience), decision.ad,
                                                 decision.creative, list(decision.reasons)))
            say(f"{name}: {len(audience)} face(s) → {decision.ad or 'no ad'}")

        say("simulating a day on two screens")
        rewards = _simulate_day(decider, list(audiences.values()), days, per_hour, np.random.default_rng(seed))
        result.simulated = len(rewards)
        if rewards:
            tenth = max(1, len(rewards) // 10)
            result.mean_reward_first = float(np.mean(rewards[:tenth]))
            result.mean_reward_last = float(np.mean(rewards[-tenth:]))
        say("writing the report")
        write_report(store, result.report)
        result.offers = run_offers(folder, seed, say)
        return result
    finally:
        store.close()


def _opening(days: int) -> datetime:
    """08:00 UTC on the first of the last ``days`` days: when the simulated opening hours start."""
    return (utcnow() - timedelta(days=days)).replace(hour=8, minute=0, second=0, microsecond=0)


def _simulate_day(decider: Decider, audiences: list[Audience], days: int, per_hour: int,
                  rng: np.random.Generator) -> list[float]:
    """Decisions from ``days`` of opening hours (08–20) at ``per_hour`` a screen, each rewarded by its dwell."""
    from dataclasses import replace

    start = _opening(days)
    rewards: list[float] = []
    for day in range(days):
        for minute in range(0, 12 * 60, max(1, 60 // per_hour)):
            for screen in SCREENS:
                at = start + timedelta(days=day, minutes=minute + float(rng.uniform(0, 1)))
                audience = replace(audiences[int(rng.integers(len(audiences)))], at=at, screen=screen)
                decision = decider.decide(audience, source="demo", person_key=f"visitor-{len(rewards)}")
                if decision.ad is None:
                    continue
                dwell = simulated_dwell(decision.ad, decision.audience, rng)
                rewards.append(decider.reward(decision.decision_id, dwell, "dwell", at=at))
                spec = decision.creative_spec
                decider.log_play(decision, duration=spec.duration if spec is not None else 10.0, dwell=dwell)
    return rewards
