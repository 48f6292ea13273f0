"""Ship the trained emotion net: ONNX (flip averaged inside), its JSON report and its generated model card.

Every number is measured on the written ONNX file with ONNX Runtime (the run-time engine), not
on the torch net: accuracy on the validation folder with and without the mirror image, per class,
the confusion matrix, and the latency of one face on one CPU thread. The card is generated from
the report, never edited by hand.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from adlens import __version__
from adlens.evaluation.demographics import emotion_classification
from adlens.faces import EMOTIONS
from adlens.training.emotion import EmotionTraining, best_net
from adlens.training.emotion_arch import SIZE, export_onnx
from adlens.training.emotion_data import cached_fer, folder_key
from adlens.training.emotion_ensemble import ensemble_report

MODEL = "emotion-net"
FILENAME = "emotion_net.onnx"


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_probabilities(path: Path, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """The ONNX model's ``(n, 7)`` output on uint8 faces ``(n, 48, 48)``, fed as x / 255."""
    session = _session(path)
    parts = [session.run(None, {"face": images[s:s + batch, None].astype(np.float32) / 255.0})[0]
             for s in range(0, len(images), batch)]
    return np.concatenate(parts)


def latency_ms(path: Path, repeats: int = 500) -> dict[str, float]:
    """Milliseconds of one face through the ONNX file on one CPU thread: the fastest run and the median.

    On a machine other jobs share, the median measures the load as much as the model; the fastest of
    many runs is close to what the model costs on a core of its own.
    """
    session = _session(path)
    face = np.random.default_rng(0).random((1, 1, SIZE, SIZE), dtype=np.float32)
    for _ in range(20):
        session.run(None, {"face": face})
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        session.run(None, {"face": face})
        times.append(time.perf_counter() - started)
    return {"min": round(float(np.min(times)) * 1000, 2), "median": round(float(np.median(times)) * 1000, 2)}


def export_emotion(checkpoint: dict[str, Any], config: EmotionTraining, work: Path, out: Path) -> dict[str, Path]:
    """Write ``emotion_net.onnx`` (best epoch, flip averaged), ``emotion_net.json`` and ``emotion_net.md`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    net = best_net(checkpoint)
    paths = {"onnx": out / FILENAME, "json": out / "emotion_net.json", "card": out / "emotion_net.md"}
    plain = export_onnx(net, Path(work) / "emotion_net_noflip.onnx", flip=False)
    export_onnx(net, paths["onnx"], flip=True)
    images, labels = cached_fer(config.val, work, "val")
    probabilities = onnx_probabilities(paths["onnx"], images)
    best = checkpoint["best"]
    report: dict[str, Any] = {
        "model": MODEL, "adlens_version": __version__,
        "exported": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": list(EMOTIONS),
        "input": f"face box, grey, resized to {SIZE}x{SIZE} (bilinear), values x/255, shape (n, 1, {SIZE}, {SIZE})",
        "output": "(n, 7) probabilities: the mean of the softmaxes of the face and of its mirror image",
        "recipe": config.recipe(), "command": config.command(work),
        "epochs_done": checkpoint["epoch"], "best_epoch": best["epoch"],
        "training_samples": int(len(cached_fer(config.data, work, "train")[1])),
        "validation": {"folder": str(config.val), "n": int(len(labels)),
                       "flip": emotion_classification(probabilities, labels),
                       "no_flip": emotion_classification(onnx_probabilities(plain, images), labels)},
        "latency_ms_one_thread": {"with_flip": latency_ms(paths["onnx"]), "without_flip": latency_ms(plain)},
        "ensemble": ensemble_report(probabilities, images, labels, work, folder_key(config.val)),
        "history": checkpoint["history"],
    }
    model = onnx.load(paths["onnx"])
    metadata = {"name": MODEL, "adlens_version": __version__, "labels": ",".join(EMOTIONS), "input": report["input"],
                "data": "FER2013 (research use)", "licence": "Apache-2.0 (weights by adlens); data FER2013 research use",
                "command": report["command"],
                "privatetest_accuracy": f"{report['validation']['flip']['accuracy']:.4f} (selected on it)"}
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save_model(model, paths["onnx"])
    data = paths["onnx"].read_bytes()
    report["onnx"] = {"file": FILENAME, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    paths["json"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths["card"].write_text(model_card(report), encoding="utf-8")
    return paths


def _confusion_table(confusion: list[list[int]]) -> str:
    rows = ["| truth \\ predicted | " + " | ".join(EMOTIONS) + " |", "|---" * (len(EMOTIONS) + 1) + "|"]
    rows += [f"| {name} | " + " | ".join(str(v) for v in row) + " |" for name, row in zip(EMOTIONS, confusion)]
    return "\n".join(rows)


def model_card(report: dict[str, Any]) -> str:
    """The model card (Markdown) of an exported emotion net, from its report."""
    val, recipe, cost = report["validation"], report["recipe"], report["latency_ms_one_thread"]
    flip, plain = val["flip"], val["no_flip"]
    classes = "\n".join(
        f"| {name} | {flip['per_class'][name]['n']} | {flip['per_class'][name]['recall']:.3f} | "
        f"{plain['per_class'][name]['recall']:.3f} |" for name in EMOTIONS)
    ensemble = "\n".join(["| models | accuracy |", "|---|---|"] + [
        f"| {name} | {value:.4f} |" for name, value in report["ensemble"]["accuracy"].items()])
    if report["ensemble"]["missing"]:
        ensemble += "\n\nNot measured (model unavailable): " + ", ".join(report["ensemble"]["missing"]) + "."
    return f"""# {report['model']}: adlens's own FER2013 emotion network

Seven emotions ({', '.join(EMOTIONS)}) from a face crop. Trained by adlens (`adlens train emotion`);
weights Apache-2.0 by adlens, **trained on FER2013, released for research use** (the 2013 Kaggle/ICML
representation-learning challenge): check the data's terms before any commercial use.

## Input and output
- Input: {report['input']}.
- Output: {report['output']} (test-time flip inside the graph).
- Network: VGG-style `{recipe['arch']}` (3×3 conv + batch norm + ReLU, 2×2 max pool per stage,
  global average pool, dropout {recipe['dropout']}, linear).
- File: `{report['onnx']['file']}`, {report['onnx']['bytes']:,} bytes, sha256 `{report['onnx']['sha256']}`.
- Cost, one face on one CPU thread in ONNX Runtime: {cost['with_flip']['min']:.2f} ms with the flip
  ({cost['without_flip']['min']:.2f} ms without), the fastest of 500 runs; median {cost['with_flip']['median']:.2f} ms
  on the machine that exported it, shared with other jobs.

## Metrics on FER2013 PrivateTest ({val['n']:,} faces), measured on the ONNX file
| | accuracy |
|---|---|
| with flip (shipped) | **{flip['accuracy']:.4f}** |
| without flip | {plain['accuracy']:.4f} |

**Selection caveat:** the epoch was chosen on this same PrivateTest split (best of
{report['epochs_done']} epochs: epoch {report['best_epoch']}), so these figures are slightly optimistic;
PublicTest was not used.

| class | n | recall (flip) | recall (no flip) |
|---|---|---|---|
{classes}

Confusion matrix (with flip):

{_confusion_table(flip['confusion'])}

## Averaged with the Xceptions (same faces; not shipped unless it says so in the registry)
{ensemble}

## Training
- Data: `fer2013_train` ({report['training_samples']:,} FER2013 Training faces, 48×48 grey).
- Augmentation on the device, per batch: random shift (a padded crop, ±4 px), left-right flip,
  rotation ±10°, scale ±10%, random erasing (p 0.5).
- Loss: cross-entropy, label smoothing {recipe['label_smoothing']}; SGD (Nesterov, momentum 0.9,
  weight decay {recipe['weight_decay']}), lr {recipe['lr']}, {recipe['warmup_epochs']} warm-up epochs then cosine,
  batch {recipe['batch_size']}, {recipe['epochs']} epochs planned, seed {recipe['seed']}.

## Reproduce
```
pip install 'adlens[train]'
{report['command']}
```
Running the same command again with the same `--work` folder resumes after the last finished epoch
and, once all epochs are done, writes this file, its report and this card again. GPU runs are not
bit-identical to CPU runs.

## Limits
- FER2013 faces are tight, frontal-ish, low-resolution web crops; cut from the detector's box, as
  on a camera, the accuracy is lower: `adlens eval emotion FER_DIR --detect --model NAME` measures
  it (each face set in a photo, found by the detector, cropped by the model).
- disgust has few training faces ({flip['per_class']['disgust']['n']} in PrivateTest) and is the least reliable class.
- Posed and web-search expressions: the labels say what a face shows, not what a person feels.
"""
