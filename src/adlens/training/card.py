"""The model card of the eyewear / beard / hat head, written from its training report.

The card is generated, never edited by hand, so a retrain cannot leave it describing
another model: numbers, counts, the command and the file's sha256 all come from the report.
"""

from __future__ import annotations

from typing import Any

_DATA = """\
| data | what was used | licence / terms |
|---|---|---|
| `face_attributes_utk` | {real} UTKFace aligned 200×200 face crops with eyewear, beard and hat labels made for adlens by looking at every face (1 / 0 / unsure; unsure is left out per attribute) | UTKFace: **non-commercial research only**; copied from bagashvilit/facial_recognition_bias (MIT repository) |
| `fashion_products_subset` | {accessories} product photos cut off their white background and placed on faces | Kaggle "Fashion Product Images (Small)" via two GitHub repositories without a LICENSE file: **terms not stated** |
| `faces_small` | {extra} photos of public figures (largest face; labels by adlens where certain), only ever trained on | ageitgey/face_recognition (MIT repository); image rights not stated |
"""

_LIMITS = """\
- **Licence of the weights.** adlens publishes the weights under Apache-2.0, but they are
  derived from UTKFace (non-commercial research only) and from product photos whose terms
  are not stated. Check both before any commercial use; retrain on licensed data if needed.
- **Hats.** Only {hat_real} real hat positives (in this data mostly babies and older men),
  so most of the hat signal comes from synthetic caps and beanies pasted from product
  photos: front views, no hoods, no headscarves (which the labels do not count as hats).
  The real hat AUC rests on those few faces.
- **Eyewear.** Synthetic eyewear is sunglasses only, photographed at a three-quarter angle;
  clear glasses are learnt from the {eyewear_real} real positives alone.
- **Crop context.** UTKFace chips end at the hairline and the ears, so the padded crop is
  filled by repeating the chip's border; on ordinary photos the crop shows real
  surroundings. Only {extra} such faces (and their synthetic copies) are in training.
- **Beard.** {beard_real} positives; where stubble or a light moustache counts as a beard is a
  judgement call (faces labelled unsure were left out).
- **Calibration.** Classes were balanced in training, so 0.5 suits balanced data; at real
  prevalence (here {prevalence}) precision at 0.5 is low (see the table). Use the
  probability, or pick a threshold for the use.
- **Population.** UTKFace skews towards some ages and groups; per-group accuracy was not
  measured for this head.
"""


_ACCESSORY_NAMES = {"sunglasses": "Sunglasses", "cap": "Caps (bandanas left out)"}


def _cell(metrics: dict[str, Any] | None) -> str:
    if not metrics:
        return "–"
    low, high = metrics["auc_ci95"]
    return f"{metrics['auc']:.3f} ({low:.3f}–{high:.3f})"


def _value(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _synthetic_effect(shipped: dict[str, Any], plain: dict[str, Any]) -> str:
    """A paragraph on what the synthetic examples changed, from the two cross-validations."""
    if not plain:
        return ""
    parts = []
    for name, metrics in shipped.items():
        key = next((k for k in metrics if k.startswith("auc_synthetic_")), None)
        if key is None or key not in plain.get(name, {}):
            continue
        kind = key.split("_")[2]
        parts.append(
            f"{name}: real faces {plain[name]['auc']:.3f} → {metrics['auc']:.3f}, held-out synthetic {kind} "
            f"{plain[name][key]:.3f} → {metrics[key]:.3f}"
        )
    return (
        "**What the synthetic examples change** (without → with): " + "; ".join(parts) + ". The last column "
        "asks whether a head finds sunglasses or caps on faces it has not seen among real faces without them; "
        "a head trained on real faces only may lean on whatever else its few positives share (the real hat "
        "wearers are mostly babies and older men), which the pasted accessories, worn by every age, do not allow.\n\n"
    )


def model_card(report: dict[str, Any]) -> str:
    """The Markdown model card of a training report (see :func:`~adlens.training.recipe.train_attribute_head`)."""
    counts, recipe = report["counts"], report["recipe"]
    validation = report["cross_validation"]
    shipped, plain = validation["recipe"], validation.get("without_synthetic", {})
    onnx = report.get("onnx", {})
    rows = []
    for name in report["outputs"]:
        m = shipped[name]
        synthetic = [f"{k.split('_')[2]} {v:.3f}" for k, v in m.items() if k.startswith("auc_synthetic_")]
        rows.append(
            f"| {name} | {_cell(m)} | {_cell(plain.get(name))} | {_value(m['precision'])} | {_value(m['recall'])} "
            f"| {m['positives']} / {m['negatives']} | {', '.join(synthetic) or '–'} |"
        )
    synthetic_rows = counts.get("sunglasses", 0) + counts.get("cap", 0)
    positives = {name: shipped[name]["positives"] for name in report["outputs"]}
    accessories = " and ".join(f"{n} {_ACCESSORY_NAMES[k]}" for k, n in counts["accessories"].items()) or "no"
    real_rows = counts["real"] + counts["extra"]
    weight_share = synthetic_rows * recipe["synthetic_weight"] / max(1e-9, synthetic_rows * recipe["synthetic_weight"] + real_rows)
    prevalence = ", ".join(
        f"{name} {shipped[name]['positives'] / (shipped[name]['positives'] + shipped[name]['negatives']):.1%}"
        for name in report["outputs"]
    )
    mirrored = " (each also mirrored left to right)" if recipe["mirror"] else ""
    return f"""# {report['model']}: eyewear, beard and hat (trained by adlens)

`{onnx.get('file', 'face_attributes_head.onnx')}`, {onnx.get('bytes', 0):,} bytes, sha256 `{onnx.get('sha256', '?')}`;
version {report['version']}, trained {report['trained']} with adlens {report['adlens_version']}.

**What it does.** Maps the features of one face, {report['features']}, to three
probabilities: {', '.join(report['outputs'])} (ONNX input `features` float32 `[N, {report['dimensions']}]`, output
`probabilities` float32 `[N, 3]`). It is a logistic regression per attribute (C = {recipe['C']:g},
balanced classes) with the feature standardisation folded into the weights: one MatMul, Add
and Sigmoid. In adlens it runs as the `face-attributes-head` attribute model.

**Intended use.** Coarse, non-identifying context for choosing an ad or product (is the
viewer wearing sunglasses or a cap, is there a beard), aggregated over viewers. Not for
identifying anyone, not for decisions about a person, not as a demographic proxy.

## Data

{_DATA.format(real=counts['real'], accessories=accessories, extra=counts['extra'])}
Synthetic examples: every face labelled eyewear = 0 got {recipe['synthetic_per_face']:g} synthetic face(s)
with sunglasses on average (placed by the eye landmarks, 2.1–2.5 eye distances wide, turned with
the eye line), every face labelled hat = 0 {recipe['synthetic_per_face']:g} with a cap (1.1–1.4 face
widths, lower edge at the eyebrows or above), with scale, angle, position, flip, hue,
saturation, brightness and JPEG-quality jitter; the other labels were kept. Each synthetic
image went through face detection again. Training rows{mirrored}:

| real faces | extra faces | synthetic sunglasses | synthetic caps | synthetic share | faces without detection |
|---|---|---|---|---|---|
| {counts['real']} | {counts['extra']} | {counts.get('sunglasses', 0)} | {counts.get('cap', 0)} | {counts['synthetic_share']:.0%} of rows, {weight_share:.0%} of the weight ({recipe['synthetic_weight']:g} per row) | {counts['no_face']} real, {counts['synthetic_no_face']} synthetic (left out) |

Real positives: eyewear {positives['eyewear']}, beard {positives['beard']}, hat {positives['hat']}.

## Metrics

{recipe['folds']}-fold cross-validation on the real faces of `face_attributes_utk`, folds stratified
by face (seed {recipe['seed']}): a face's mirrored copy and the synthetic images made from it stay in
its fold, so synthetic examples are only ever trained on, never scored. AUC with a 95%
percentile-bootstrap interval ({recipe['bootstrap']} resamples of faces); precision and recall at 0.5.

| attribute | AUC (95% CI) | AUC without synthetic | precision | recall | positives / negatives | held-out synthetic vs real negatives (AUC) |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{_synthetic_effect(shipped, plain)}Training took {report['seconds']['total']:.0f} s ({report['seconds']['examples']:.0f} s for the examples).
C and the synthetic weight were picked on these same folds (3 seeds) from a small grid, and the
crop (128 px, pad 0.35, shift 0.25, among 112–128 px and pads 0.25–0.5) and the pooling (mean and max,
among mean, bands and a 2×2 grid) on these folds with seed 0, so the AUCs above are slightly optimistic.

## Known limits

{_LIMITS.format(hat_real=positives['hat'], eyewear_real=positives['eyewear'], beard_real=positives['beard'], extra=counts['extra'], prevalence=prevalence)}
## Reproduce

From the project root, with `../shared` in place (`ADLENS_MODELS=../shared/models`):

```
{report['command']} --out src/adlens/weights
```

The weights come out the same for the same data and seed; the file's sha256 changes with the
training date in its metadata, so update `face-attributes-head` in `src/adlens/modelspecs.py`
(sha256 and size) after a retrain. Metrics: `face_attributes_head.json`.
"""
