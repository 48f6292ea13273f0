"""``adlens eval ...``: accuracy of the models on labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adlens.columns import ATTRIBUTE_NAMES
from adlens.cli.common import WorkersOption, handle_errors, out, track, worker_count, write_json
from adlens.evaluation.attributes import evaluate_attributes
from adlens.evaluation.demographics import evaluate_age_gender, evaluate_emotion
from adlens.evaluation.verification import evaluate_verification

app = typer.Typer(help="Measure accuracy on labelled data.", no_args_is_help=True)

JsonOption = Annotated[Path | None, typer.Option("--json", help="Also write the full result as JSON.")]
ExistingDir = Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Labelled folder.")]


def _finish(result: dict[str, Any], json_file: Path | None) -> None:
    if json_file is not None:
        write_json(result, json_file)


@app.command()
@handle_errors
def emotion(
    folder: ExistingDir,
    json_file: JsonOption = None,
    model: Annotated[str | None, typer.Option(help="Emotion model (default: ADLENS_EMOTION_MODEL).")] = None,
    detect: Annotated[bool, typer.Option("--detect/--crops", help="Run the detector on each face set in a photo "
                                         "(full pipeline) or feed the crops directly.")] = False,
) -> None:
    """Emotion accuracy on a FER-layout folder (one sub-folder per class)."""
    result = evaluate_emotion(folder, model, track=track, detect=detect)
    out.print(f"model {result['model']}: accuracy {result['accuracy']:.4f} on {result['n']} images ({result['mode']})")
    if detect:
        detected = result["accuracy_detected"]
        crops = result["accuracy_detected_crops"]
        out.print(f"{result['no_face']} without a detected face (fed directly); where the detector found the face: "
                  f"{'-' if detected is None else format(detected, '.4f')} "
                  f"({'-' if crops is None else format(crops, '.4f')} with the crops fed directly)")
    table = Table("true \\ predicted", *result["labels"], "recall")
    for label, row in zip(result["labels"], result["confusion"], strict=True):
        recall = result["per_class"][label]["recall"]
        table.add_row(label, *map(str, row), "-" if recall is None else f"{recall:.3f}")
    out.print(table)
    _finish(result, json_file)


@app.command("age-gender")
@handle_errors
def age_gender(
    folder: ExistingDir,
    json_file: JsonOption = None,
    detect: Annotated[bool, typer.Option("--detect/--chips", help="Run the detector (full pipeline) or feed the aligned chips directly.")] = False,
    workers: WorkersOption = None,
) -> None:
    """Age MAE and gender accuracy on UTKFace-named files, per gender × group and per true age bracket too.

    The ethnicity in the file names is used only to report fairness; adlens never infers it.
    """
    result = evaluate_age_gender(folder, track=track, detect=detect, workers=worker_count(workers))
    out.print(
        f"age MAE {result['age_mae']:.2f} years, gender accuracy {result['gender_accuracy']:.4f} "
        f"on {result['n']} images ({result['mode']}; {result['no_face']} without a detected face)"
    )
    table = Table("gender/group", "n", "age MAE", "gender accuracy")
    for group, row in result["groups"].items():
        table.add_row(group, str(row["n"]), f"{row['age_mae']:.2f}", f"{row['gender_accuracy']:.3f}")
    out.print(table)
    brackets = Table("true age", "n", "age MAE", "age bias", "gender accuracy")
    for label, row in result["brackets"].items():
        brackets.add_row(label, str(row["n"]), f"{row['age_mae']:.2f}", f"{row['age_bias']:+.2f}",
                         f"{row['gender_accuracy']:.3f}")
    out.print(brackets)
    _finish(result, json_file)


@app.command()
@handle_errors
def fairness(
    folder: ExistingDir,
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False, help="Write the HTML report here.")] = None,
    json_file: JsonOption = None,
    workers: WorkersOption = None,
) -> None:
    """Fairness on UTKFace-named photos through the whole pipeline: per gender × ethnicity group and age bracket.

    Age MAE and gender accuracy with 95% intervals, the largest gap, and false matches between strangers of the
    same group at the gallery and match thresholds. The ethnicity is read from the file names only; adlens never
    infers it.
    """
    from adlens.cli.fairness import print_fairness
    from adlens.evaluation.fairness import evaluate_fairness

    result = evaluate_fairness(folder, track=track, workers=worker_count(workers))
    print_fairness(result)
    if out_file is not None:
        from adlens.evaluation.fairness_page import write_fairness

        out.print(f"report written to {write_fairness(result, out_file)}", highlight=False)
    _finish(result, json_file)


@app.command()
@handle_errors
def verify(
    pairs: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV: file_x,file_y,Decision (Yes/No).")],
    root: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder the file names are relative to.")],
    json_file: JsonOption = None,
    workers: WorkersOption = None,
) -> None:
    """Same-person accuracy on labelled pairs at the configured threshold."""
    result = evaluate_verification(pairs, root, track=track, workers=worker_count(workers))
    out.print(
        f"accuracy {result['accuracy']:.4f} on {result['judged']} of {result['n']} pairs "
        f"(threshold {result['threshold']}): TP {result['tp']}  FP {result['fp']}  FN {result['fn']}  TN {result['tn']}"
    )
    for pair in result["no_face"]:
        out.print(f"  not judged: {pair['file_x']} / {pair['file_y']}: {pair['reason']}", highlight=False)
    _finish(result, json_file)


@app.command()
@handle_errors
def catalog(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of product photos named by id.")],
    labels: Annotated[Path, typer.Option("--labels", exists=True, dir_okay=False,
                                         help="CSV / JSON lines with id and label columns (e.g. styles.csv).")],
    json_file: JsonOption = None,
    holdout: Annotated[float, typer.Option(help="Share of the photos held out and predicted.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the random hold-out split.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use only the first N photos (by id).")] = None,
) -> None:
    """Category and colour prediction for untagged products: accuracy on a held-out fifth.

    Reports masterCategory, subCategory, articleType and baseColour accuracy of the nearest-neighbour prediction, and how often the photo's dominant colour is the label.
    """
    from adlens.cli.common import progress_bar
    from adlens.products.evaluation import TARGETS, evaluate_catalog

    with progress_bar() as progress:
        task = progress.add_task("extracting aspects", total=None)
        result = evaluate_catalog(folder, labels, holdout=holdout, seed=seed, limit=limit,
                                  advance=lambda n: progress.advance(task, n),
                                  on_total=lambda n: progress.update(task, total=n))
    out.print(f"{result['n']} held-out products predicted from {result['n_train']} "
              f"({len(result['skipped'])} photos skipped)", highlight=False)
    table = Table("label", "column", "classes", "accuracy")
    for key in TARGETS:
        if f"{key}_accuracy" in result:
            accuracy = result[f"{key}_accuracy"]
            table.add_row(key.replace("_", " "), result[f"{key}_column"], str(result[f"{key}_classes"]),
                          "-" if accuracy is None else f"{accuracy:.4f}")
    if result.get("dominant_colour_accuracy") is not None:
        table.add_row("dominant colour", "(from pixels)", "", f"{result['dominant_colour_accuracy']:.4f}")
    out.print(table)
    _finish(result, json_file)


@app.command()
@handle_errors
def attributes(
    folder: ExistingDir,
    labels: Annotated[Path, typer.Option("--labels", exists=True, dir_okay=False,
                                         help=f"CSV: file,{','.join(ATTRIBUTE_NAMES)} (1, 0, empty = skip), "
                                              "optionally male (for false alarms of the beard on women).")],
    json_file: JsonOption = None,
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Probability that counts as present, for all three (default: each attribute's "
        "threshold: ADLENS_EYEWEAR_THRESHOLD…, else ADLENS_ATTRIBUTE_THRESHOLD, else the model card's).",
        show_default=False)] = None,
    workers: WorkersOption = None,
) -> None:
    """Eyewear, beard and hat: ROC AUC, precision and recall at each threshold, and false alarms (beard on women, hat on bare heads)."""
    result = evaluate_attributes(folder, labels, track=track, threshold=threshold, workers=worker_count(workers))
    out.print(f"model {result['model']} on {result['n_images']} images ({result['no_face']} without a detected face)",
              highlight=False)
    table = Table("attribute", "n", "positives", "ROC AUC", "threshold", "precision", "recall")
    for name in ATTRIBUTE_NAMES:
        row = result[name]
        table.add_row(name, str(row["n"]), str(row["positives"]), "-" if row["auc"] is None else f"{row['auc']:.3f}",
                      f"{result['thresholds'][name]:g}",
                      *("-" if row[key] is None else f"{row[key]:.3f}" for key in ("precision", "recall")))
    out.print(table)
    for alarm, rate in result["false_alarms"].items():
        out.print(f"false alarms, {alarm.replace('_', ' ')}: {rate['rate']:.1%} of {rate['faces']}", highlight=False)
    training = result["training"]
    if training.get("part_of_training"):
        figures = ", ".join(f"{k} {v:.3f}" for k, v in (training.get("cross_validated") or {}).items())
        out.print(f"note: {training['dataset']} was part of this model's training, so these figures are in-sample; "
                  f"its cross-validated AUCs ({figures or 'see the card'}) are in the model card "
                  f"{training.get('card') or 'face_attributes_head.md'}.", highlight=False)
    _finish(result, json_file)
