"""Products for a face: targeting rules from eyewear, beard and hat to catalogue aspects.

The default rules are the attributes declared in :data:`adlens.columns.ATTRIBUTES`.
A rule fires when a face's attribute probability reaches its threshold; the products
it proposes are those carrying one of its tokens (sunglasses, caps…), ranked by
cosine against those tokens (plus the face's gender where the catalogue has it), and
each comes with the reason: ``"wears eyewear: p = 0.94"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlens.columns import ATTRIBUTE_BY_NAME, ATTRIBUTES, Attribute
from adlens.errors import InvalidInputError
from adlens.faces import Faces
from adlens.products.recommend import Recommendation, Recommender
from adlens.products.types import aspect_key
from adlens.products.vectors import AspectIndex
from adlens.settings import Settings

#: How much the face's gender counts next to a rule's tokens (it only breaks ties).
GENDER_WEIGHT = 0.3
_GENDER_TOKENS = {"male": ("men", "unisex"), "female": ("women", "unisex")}


@dataclass(frozen=True)
class Rule:
    """When ``attribute`` ≥ ``threshold``, propose products carrying any of ``tokens``.

    Without a ``threshold`` the attribute's own threshold applies (``ADLENS_EYEWEAR_THRESHOLD``…;
    see :meth:`adlens.columns.Attribute.threshold`).
    """

    attribute: str
    tokens: tuple[str, ...]
    reason: str
    threshold: float | None = None

    def __post_init__(self) -> None:
        if not self.tokens or (self.threshold is not None and not 0.0 <= self.threshold <= 1.0):
            raise InvalidInputError(f"rule for {self.attribute!r} needs tokens and a threshold in [0, 1]")


DEFAULT_RULES = tuple(Rule(a.name, a.tokens, a.label) for a in ATTRIBUTES)


def load_rules(path: Path) -> tuple[Rule, ...]:
    """Rules from a JSON list of ``{"attribute", "tokens", "reason", "threshold"?}``."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return tuple(Rule(str(i["attribute"]), tuple(str(t).lower() for t in i["tokens"]), str(i["reason"]),
                          float(i["threshold"]) if "threshold" in i else None) for i in items)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InvalidInputError(f"cannot read targeting rules from {path}: {error}") from None


def _threshold(rule: Rule, settings: Settings | None) -> float:
    """The rule's own threshold, else its attribute's threshold setting."""
    if rule.threshold is not None:
        return rule.threshold
    # A rule on a column that no attribute declares takes the attributes' default setting.
    attribute = ATTRIBUTE_BY_NAME.get(rule.attribute) or Attribute(rule.attribute, rule.reason, rule.tokens)
    return attribute.threshold(settings)


@dataclass
class FaceProducts:
    """The products proposed for one face, and the rules that fired."""

    face: int
    attributes: dict[str, float]
    products: list[Recommendation]
    fired: list[str]


class FaceTargeting:
    """Applies targeting rules to every face of a :class:`Faces` over a catalogue index."""

    def __init__(self, index: AspectIndex, rules: tuple[Rule, ...] = DEFAULT_RULES,
                 settings: Settings | None = None) -> None:
        self.index = index
        self.rules = rules
        self._thresholds = {rule: _threshold(rule, settings) for rule in rules}
        self.recommender = Recommender(index)
        self._carriers = {rule: self._products_with(rule.tokens) for rule in rules}

    def _products_with(self, tokens: tuple[str, ...]) -> set[str]:
        columns = [self.index.vocabulary[k] for t in tokens if (k := aspect_key("token", t)) in self.index.vocabulary]
        if not columns:
            return set()
        rows = np.flatnonzero(self.index.matrix[:, columns].getnnz(axis=1) > 0)
        return {self.index.ids[r] for r in rows}

    def recommend(self, faces: Faces, k: int = 5) -> list[FaceProducts]:
        """Up to ``k`` products per face from the rules its attributes fire, best first."""
        results = []
        for i in range(len(faces)):
            attributes = {r.attribute: float(faces.data[r.attribute][i]) for r in self.rules
                          if r.attribute in faces.data}
            gender = str(faces.data["gender"][i]) if "gender" in faces.data else None
            chosen: dict[str, Recommendation] = {}
            fired = []
            for rule in self.rules:
                p = attributes.get(rule.attribute)
                if p is None or p < self._thresholds[rule]:
                    continue
                fired.append(rule.attribute)
                reason = f"{rule.reason}: p = {p:.2f}"
                for item in self._for_rule(rule, gender, k):
                    best = chosen.get(item.product)
                    score = item.score * p
                    if best is None or score > best.score:
                        chosen[item.product] = Recommendation(item.product, score, [reason])
            ranked = sorted(chosen.values(), key=lambda r: -r.score)[:k]
            results.append(FaceProducts(i, attributes, ranked, fired))
        return results

    def _for_rule(self, rule: Rule, gender: str | None, k: int) -> list[Recommendation]:
        allowed = self._carriers[rule]
        if not allowed:
            return []
        query = {aspect_key("token", t): 1.0 for t in rule.tokens}
        for token in _GENDER_TOKENS.get(gender or "", ()):
            query[aspect_key("token", token)] = GENDER_WEIGHT
        return self.recommender.recommend(query, k, allowed=allowed)


def face_products_json(results: list[FaceProducts], faces: Faces, names: dict[str, str]) -> list[dict[str, Any]]:
    """JSON-ready form: per face its box, attributes and products with reasons."""
    return [{
        "face": r.face,
        "box": [round(float(v), 1) for v in faces.boxes[r.face]],
        "attributes": {k: round(v, 4) for k, v in r.attributes.items()},
        "products": [{"product": p.product, "name": names.get(p.product, ""), "score": round(p.score, 4),
                      "reasons": p.reasons} for p in r.products],
    } for r in results]
