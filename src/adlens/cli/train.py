"""``adlens train …``: train the models adlens ships itself (the eyewear / beard / hat head, the emotion net)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from adlens.attributes.face_attributes import HEAD
from adlens.cli.common import err, handle_errors, out, track, write_json
from adlens.errors import InvalidInputError, UnknownNameError
from adlens.modelspecs import get_spec

app = typer.Typer(help="Train the models adlens ships (needs the labelled data in ../shared/data).", no_args_is_help=True)

SHARED_DATA = Path("../shared/data")
WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


def _folder(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise InvalidInputError(f"{what} folder {path} not found")
    return path


@app.command()
@handle_errors
def attributes(
    data: Annotated[Path, typer.Option(help="Labelled faces that also get synthetic accessories: labels.csv "
                                            "(file,eyewear,beard,hat) and images/.")] = SHARED_DATA / "face_attributes_utk",
    more_data: Annotated[list[Path] | None, typer.Option(
        "--more-data", help="More labelled faces, real only (repeatable; labels.csv may add a male column, used "
        "only to measure false alarms on women). Default: celebahq_attributes.", show_default=False)] = None,
    no_more_data: Annotated[bool, typer.Option("--no-more-data", help="Train on --data (and extras) only.")] = False,
    products: Annotated[Path, typer.Option(help="Product photos for synthetic faces: styles.csv, styles_text.csv, images/.")] = (
        SHARED_DATA / "fashion_products_subset"),
    extra: Annotated[Path, typer.Option(help="faces_small: extra faces, only ever trained on.")] = SHARED_DATA / "faces_small",
    no_extra: Annotated[bool, typer.Option("--no-extra", help="Leave the extra faces out.")] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the .onnx, .json and .md go.")] = WEIGHTS,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic faces and the folds.")] = 0,
    synthetic_per_face: Annotated[float, typer.Option(
        help="Synthetic faces of each kind (sunglasses, cap) per eligible face, on average; 0: none.", min=0.0)] = 1.0,
    synthetic_weight: Annotated[float, typer.Option(help="Weight of a synthetic example in training.", min=0.0)] = 0.1,
    data_weight: Annotated[float, typer.Option(
        help="Weight of the rows made from --data faces (real and synthetic) against --more-data rows.", min=0.0)] = 2.0,
    c: Annotated[float, typer.Option("--C", help="Inverse regularisation of the logistic regressions.", min=1e-6)] = 0.001,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.", min=2)] = 5,
    json_file: Annotated[Path | None, typer.Option("--json", help="Also write the training report here.")] = None,
    cache: Annotated[Path | None, typer.Option(
        help="Folder keeping each face's features for reruns (default: attribute-features in ADLENS_CACHE_DIR).",
        show_default=False)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Compute every feature afresh, keep nothing.")] = False,
) -> None:
    """Train the eyewear / beard / hat head and write it with its metrics and model card.

    Cross-validates first on folds over all data sets together and on folds that keep them apart (synthetic faces only ever in training folds), calibrates the probabilities (Platt, on the out-of-fold values), picks the beard and hat thresholds, then fits on every real and synthetic example. The defaults reproduce the shipped model; after a retrain update the sha256 and size of face-attributes-head in the registry, and the thresholds in adlens.columns.
    """
    from adlens.settings import get_settings

    # scikit-learn is imported here, not with the CLI: importing it sets KMP_DUPLICATE_LIB_OK.
    from adlens.training.recipe import AttributeTraining, save_attribute_head, train_attribute_head

    config = AttributeTraining(
        data=_folder(data, "labelled data"),
        more_data=() if no_more_data else tuple(
            _folder(path, "labelled data") for path in (more_data or [SHARED_DATA / "celebahq_attributes"])),
        cache=None if no_cache else cache or get_settings().cache_dir / "attribute-features",
        products=_folder(products, "products") if synthetic_per_face > 0 else None,
        extra=None if no_extra else _folder(extra, "extra faces"),
        seed=seed, synthetic_per_face=synthetic_per_face, synthetic_weight=synthetic_weight, data_weight=data_weight,
        C=c, folds=folds,
    )
    trained = train_attribute_head(config, track=track)
    paths = save_attribute_head(trained, out_dir)
    report = trained.report
    thresholds = report["thresholds"]
    for dataset, metrics in report["cross_validation"]["recipe"].items():
        apart = report["cross_validation"].get("apart", {}).get(dataset, {})
        plain = report["cross_validation"].get("without_synthetic", {}).get(dataset, {})
        table = Table(f"{dataset}: attribute", "AUC (95% CI), folds together", "without synthetic",
                      "AUC, trained on the other sets", "threshold", "precision", "recall", "pos / neg",
                      title=f"cross-validated on {dataset}")
        for name in report["outputs"]:
            m = metrics[name]
            if m["auc"] is None:
                continue
            table.add_row(
                name, f"{m['auc']:.3f} ({m['auc_ci95'][0]:.3f}–{m['auc_ci95'][1]:.3f})",
                *(f"{other[name]['auc']:.3f}" if other.get(name, {}).get("auc") is not None else "–"
                  for other in (plain, apart)),
                f"{thresholds[name]:g}", *("–" if m[k] is None else f"{m[k]:.3f}" for k in ("precision", "recall")),
                f"{m['positives']} / {m['negatives']}",
            )
        out.print(table)
        for alarm, rate in metrics.get("false_alarms", {}).items():
            out.print(f"{dataset}: false alarms {alarm.replace('_', ' ')}: {rate['rate']:.1%} of {rate['faces']} "
                      f"at {rate['threshold']:g}", highlight=False)
    counts = report["counts"]
    out.print(
        f"{counts['real']} real + {counts['extra']} extra faces, {counts['sunglasses']} synthetic sunglasses, "
        f"{counts['cap']} synthetic caps; {report['seconds']['total']:.0f} s; "
        f"{report['onnx']['bytes']:,} bytes, sha256 {report['onnx']['sha256']}",
        highlight=False,
    )
    for path in paths.values():
        out.print(f"written: {path}", highlight=False)
    _check_registry(report["onnx"], HEAD)
    _check_thresholds(report["thresholds"])
    if json_file is not None:
        write_json(report, json_file)


def _check_thresholds(thresholds: dict[str, float]) -> None:
    """Say which default thresholds in adlens.columns differ from the ones picked in training."""
    from adlens.columns import ATTRIBUTE_BY_NAME

    for name, value in thresholds.items():
        if ATTRIBUTE_BY_NAME[name].default_threshold != value:
            err.print(f"note: {name}'s default threshold in src/adlens/columns.py is "
                      f"{ATTRIBUTE_BY_NAME[name].default_threshold:g}; this training picked {value:g}", highlight=False)


def _check_registry(written: dict[str, object], name: str) -> None:
    """Say what to change in the registry when the new file is not the one it expects."""
    try:
        spec = get_spec(name)
    except UnknownNameError:
        return
    if spec.sha256 != written["sha256"]:
        err.print(
            f"note: the registry expects {name} with sha256 {spec.sha256}; to use this file, set its sha256 to "
            f"{written['sha256']} and its size to {written['bytes']} in src/adlens/modelspecs.py",
            highlight=False,
        )


@app.command()
@handle_errors
def emotion(
    data: Annotated[Path, typer.Option(help="FER-layout training faces: one folder per emotion (or its one sub-folder).")] = (
        SHARED_DATA / "fer2013_train"),
    val: Annotated[Path, typer.Option(help="FER-layout faces the best epoch is selected on (and measured on).")] = (
        SHARED_DATA / "fer2013_privatetest"),
    work: Annotated[Path, typer.Option(help="Work folder: cached arrays and the checkpoint; run again to resume.")] = Path(
        "emotion-run"),
    epochs: Annotated[int, typer.Option(help="Epochs in all (the cosine schedule spans them).", min=1)] = 60,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the initial weights, the order and the augmentation.")] = 0,
    arch: Annotated[str, typer.Option(help="Widths per stage x convolutions per stage.")] = "32-64-128-256x2",
    batch_size: Annotated[int, typer.Option(help="Faces per step.", min=2)] = 128,
    lr: Annotated[float, typer.Option(help="Peak learning rate (SGD, Nesterov).", min=1e-6)] = 0.05,
    stop_after: Annotated[int | None, typer.Option(help="Stop after this many more epochs (resume later).", min=1)] = None,
    export_best: Annotated[bool, typer.Option("--export-best", help="Export the best epoch so far without training.")] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Where the .onnx, .json and .md go.")] = WEIGHTS,
) -> None:
    """Train adlens's emotion network on FER2013 (needs PyTorch: adlens's train extra), resumably, and export it.

    Each epoch is checkpointed in --work; the same command again resumes after the last finished epoch. When all epochs are done (or with --export-best) the best epoch on --val is written to --out as ONNX with its report and model card; after a retrain update the sha256 and size of emotion-net in the registry.
    """
    from adlens.training.emotion import EmotionTraining, load_checkpoint, train_emotion
    from adlens.training.emotion_report import MODEL, export_emotion

    config = EmotionTraining(data=data, val=val, epochs=epochs, arch=arch, batch_size=batch_size, lr=lr, seed=seed)
    if export_best:
        state = load_checkpoint(work)
        if state is None or state.get("best") is None:
            raise InvalidInputError(f"no finished epoch in {work} to export")
        config = EmotionTraining(**{**state["config"], "data": Path(state["config"]["data"]),
                                    "val": Path(state["config"]["val"])})
    else:
        state = train_emotion(config, work, device, track=track, log=lambda line: err.print(line, highlight=False),
                              stop_after=stop_after)
        if state["epoch"] < epochs:
            out.print(f"stopped after epoch {state['epoch']} of {epochs}; run the same command to resume", highlight=False)
            return
    paths = export_emotion(state, config, work, out_dir)
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    validation = report["validation"]
    out.print(
        f"{MODEL}: epoch {report['best_epoch']} of {report['epochs_done']}; on {validation['n']} faces of {config.val}: "
        f"accuracy {validation['flip']['accuracy']:.4f} with flip, {validation['no_flip']['accuracy']:.4f} without; "
        f"{report['latency_ms_one_thread']['with_flip']['min']:.2f} ms a face on one thread (fastest of 500)",
        highlight=False,
    )
    averaged = report["ensemble"]["accuracy"]
    out.print("accuracy, averaged with the Xceptions: " + ", ".join(f"{k} {v:.4f}" for k, v in averaged.items()),
              highlight=False)
    for path in paths.values():
        out.print(f"written: {path}", highlight=False)
    _check_registry(report["onnx"], MODEL)
