"""The model card of the eyewear / beard / hat head, written from its training report.

The card is generated, never edited by hand, so a retrain cannot leave it describing
another model: numbers, counts, the command and the file's sha256 all come from the report.
"""

from __future__ import annotations

from typing import Any

_DATA = """\
| data | what was used | licence / terms |
|---|---|---|
| `face_attributes_utk` | {utk} UTKFace aligned 200×200 face crops with eyewear, beard and hat labels made for adlens by looking at every face (1 / 0 / unsure; unsure is left out per attribute); the only faces that get synthetic accessories | UTKFace: **non-commercial research only**; copied from bagashvilit/facial_recognition_bias (MIT repository) |
| `celebahq_attributes` | {celebahq} CelebA-HQ 256×256 faces (whole head visible; many women, headbands and bare heads) with eyewear, beard and hat mapped from CelebA's human annotations (stubble only: unsure, left out); its `male` column is used only to measure false alarms of the beard on women | CelebA-HQ: **CC BY-NC 4.0**; CelebA: **non-commercial research and educational use only**; images via charitha1234/Face-generator |
| `fashion_products_subset` | {accessories} product photos cut off their white background and placed on faces | Kaggle "Fashion Product Images (Small)" via two GitHub repositories without a LICENSE file: **terms not stated** |
| `faces_small` | {extra} photos of public figures (largest face; labels by adlens where certain), only ever trained on | ageitgey/face_recognition (MIT repository); image rights not stated |
"""

_LIMITS = """\
- **Licence of the weights.** adlens publishes the weights under Apache-2.0, but they are
  derived from UTKFace (non-commercial research only), CelebA-HQ (CC BY-NC 4.0; CelebA:
  non-commercial research only) and from product photos whose terms are not stated. Check both before any commercial use; retrain on licensed data if needed.
- **Hats.** {hat_real} real hat positives, most of them CelebA-HQ's (celebrity photos: fashion
  hats, caps, beanies); synthetic caps are front views. Hoods and headscarves are rare in the
  data; CelebA's labels count some headbands as hats and not others.
- **Eyewear.** {eyewear_real} real positives; CelebA does not tell sunglasses from clear glasses,
  and synthetic eyewear is sunglasses only.
- **Identities repeat.** CelebA has several photos of many people, and folds are made of
  photos, not people, so a fold may be scored on someone it was trained on; the AUCs on
  CelebA-HQ are a little optimistic for new people. The folds that keep the data sets apart
  do not have this problem.
- **Crop context.** UTKFace chips end at the hairline and the ears, so the padded crop is
  filled by repeating the chip's border; on ordinary photos the crop shows real
  surroundings. Only {extra} such faces (and their synthetic copies) are in training.
- **Beard.** {beard_real} positives; where stubble or a light moustache counts as a beard is a
  judgement call (faces labelled unsure were left out).
- **Calibration.** Platt scaling was fitted on the out-of-fold values of all real faces
  together (prevalence here {prevalence}); CelebA-HQ's share of accessories was raised
  on purpose (every face with one was taken), so on a street the real prevalence is lower
  and 0.5 means somewhat better than even odds. The thresholds were picked on these folds.
- **Population.** UTKFace skews towards some ages and groups, CelebA-HQ towards young
  celebrities, posed and made up; per-group accuracy was not measured for this head.
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
    """A paragraph on what the synthetic examples changed, from the two cross-validations (by data set)."""
    parts = []
    for dataset, by_name in shipped.items():
        for name, metrics in by_name.items():
            key = next((k for k in metrics if k.startswith("auc_synthetic_")), None)
            other = plain.get(dataset, {}).get(name, {})
            if key is None or key not in other or other.get("auc") is None:
                continue
            kind = key.split("_")[2]
            parts.append(f"{name} on {dataset}: real faces {other['auc']:.3f} → {metrics['auc']:.3f}, held-out "
                         f"synthetic {kind} {other[key]:.3f} → {metrics[key]:.3f}")
    if not parts:
        return ""
    return (
        "**What the synthetic examples change** (without → with): " + "; ".join(parts) + ". The last figure "
        "asks whether a head finds sunglasses or caps on faces it has not seen among real faces without them.\n\n"
    )


def _metric_rows(report: dict[str, Any], dataset: str) -> list[str]:
    validation, thresholds = report["cross_validation"], report["thresholds"]
    shipped = validation["recipe"][dataset]
    plain = validation.get("without_synthetic", {}).get(dataset, {})
    apart = validation.get("apart", {}).get(dataset, {})
    rows = []
    for name in report["outputs"]:
        m = shipped[name]
        if m["auc"] is None:
            continue
        synthetic = [f"{k.split('_')[2]} {v:.3f}" for k, v in m.items() if k.startswith("auc_synthetic_")]
        rows.append(
            f"| {dataset} | {name} | {_cell(m)} | {_cell(plain.get(name))} | {_cell(apart.get(name))} "
            f"| {thresholds[name]:g} | {_value(m['precision'])} | {_value(m['recall'])} "
            f"| {m['positives']} / {m['negatives']} | {', '.join(synthetic) or '–'} |"
        )
    return rows


def _false_alarm_lines(report: dict[str, Any]) -> str:
    lines = []
    for scheme, title in (("recipe", "folds together"), ("apart", "trained on the other data sets")):
        for dataset, metrics in report["cross_validation"].get(scheme, {}).items():
            for alarm, rate in metrics.get("false_alarms", {}).items():
                lines.append(f"| {dataset} | {title} | {alarm.replace('_', ' ')} | {rate['threshold']:g} "
                             f"| {rate['rate']:.1%} | {rate['faces']} |")
    if not lines:
        return ""
    return ("| data set | folds | false alarms of | threshold | rate | faces |\n|---|---|---|---|---|---|\n"
            + "\n".join(lines) + "\n\n")


def _calibration_lines(report: dict[str, Any]) -> str:
    calibration = report.get("calibration")
    if not calibration:
        return ""
    lines = []
    for name in report["outputs"]:
        entry = calibration[name]
        for dataset in report["cross_validation"]["recipe"]:
            if dataset not in entry:
                continue
            before, after = entry[dataset]["before"], entry[dataset]["after"]
            lines.append(f"| {name} | {dataset} | {entry['slope']:.3f}, {entry['intercept']:+.3f} | {before['brier']:.4f} "
                         f"→ {after['brier']:.4f} | {before['ece']:.3f} → {after['ece']:.3f} |")
    return ("Calibration (Platt scaling on the out-of-fold decision values of every real face, folds together; "
            "folded into the weights): Brier score and expected calibration error (10 bins) out of fold, "
            "before → after. The reliability tables are in the JSON report.\n\n"
            "| attribute | data set | slope, intercept | Brier | ECE |\n|---|---|---|---|---|\n"
            + "\n".join(lines) + "\n\n")


def model_card(report: dict[str, Any]) -> str:
    """The Markdown model card of a training report (see :func:`~adlens.training.recipe.train_attribute_head`)."""
    counts, recipe = report["counts"], report["recipe"]
    validation = report["cross_validation"]
    shipped, plain = validation["recipe"], validation.get("without_synthetic", {})
    onnx = report.get("onnx", {})
    rows = [row for dataset in shipped for row in _metric_rows(report, dataset)]
    faces = {dataset: max(m[n]["positives"] + m[n]["negatives"] for n in report["outputs"])
             for dataset, m in shipped.items()}
    synthetic_rows = counts.get("sunglasses", 0) + counts.get("cap", 0)
    positives = {name: sum(m[name]["positives"] for m in shipped.values()) for name in report["outputs"]}
    negatives = {name: sum(m[name]["negatives"] for m in shipped.values()) for name in report["outputs"]}
    accessories = " and ".join(f"{n} {_ACCESSORY_NAMES[k]}" for k, n in counts["accessories"].items()) or "no"
    real_rows = counts["real"] + counts["extra"]
    weight_share = synthetic_rows * recipe["synthetic_weight"] / max(1e-9, synthetic_rows * recipe["synthetic_weight"] + real_rows)
    prevalence = ", ".join(
        f"{name} {positives[name] / max(1, positives[name] + negatives[name]):.1%}"
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

{_DATA.format(utk=faces.get('face_attributes_utk', 0), celebahq=faces.get('celebahq_attributes', 0), accessories=accessories, extra=counts['extra'])}
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
Rows made from the first data set's faces (real and synthetic) weigh {recipe.get('data_weight', 1):g}× in training.

## Metrics

Cross-validation on the real faces, two ways. **Folds together**: {recipe['folds']} folds over every
data set's faces, stratified by data set and label (seed {recipe['seed']}), each face scored by a
head trained on everything else (the other folds of every set, the extra faces, the synthetic
images of the training faces). **Apart**: each data set scored by a head trained on the others
only. A face's mirrored copy and the synthetic images made from it stay in its fold, so synthetic
examples are never scored. AUC with a 95% percentile-bootstrap interval ({recipe['bootstrap']} resamples
of faces); precision and recall at each attribute's threshold, on calibrated probabilities.

| data set | attribute | AUC (95% CI), folds together | without synthetic | apart | threshold | precision | recall | positives / negatives | held-out synthetic vs real negatives (AUC) |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{_false_alarm_lines(report)}{_calibration_lines(report)}{_synthetic_effect(shipped, plain)}**Thresholds** (`ADLENS_EYEWEAR_THRESHOLD`, `ADLENS_BEARD_THRESHOLD`, `ADLENS_HAT_THRESHOLD`): {', '.join(f"{k} {v:g}" for k, v in report['thresholds'].items())}:
eyewear 0.5 (even odds), beard and hat the lowest from 0.5 in steps of 0.05 at which at most
{recipe['false_alarm_rate']:.1%} of women (beard) and of bare heads (hat) alarm out of fold.

Training took {report['seconds']['total']:.0f} s ({report['seconds']['examples']:.0f} s for the examples).
C and the synthetic weight were picked on these same folds from a small grid, and the
crop (128 px, pad 0.35, shift 0.25, among 112–128 px and pads 0.25–0.5) and the pooling (mean and max,
among mean, bands and a 2×2 grid) on UTKFace folds, and the mid-level maps (the lower halves of the
8×8 and 16×16 maps, among whole maps and either one alone) on 3 folds of half of CelebA-HQ's faces,
so the AUCs above are slightly optimistic.

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
