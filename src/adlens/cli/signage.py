"""``adlens signage``: run the screen loop on a camera, a video file or a folder of frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out, write_json
from adlens.runtime import divide_cores
from adlens.settings import Settings, get_settings

if TYPE_CHECKING:
    from adlens.decision import Decider
    from adlens.signage.sources import Frame
    from adlens.signage.tracking import Track
    from adlens.store import Store


def _make_decider(store: Store, settings: Settings) -> Decider:
    """The decision engine on ``store`` (imported here: it loads the bandit and the ads)."""
    from adlens.decision import Decider

    return Decider(store, settings)


def _log(message: str) -> None:
    err.print(escape(message), highlight=False)


@handle_errors
def signage(
    camera: Annotated[int | None, typer.Option("--camera", help="Camera index (0: the first webcam).", show_default=False)] = None,
    video: Annotated[Path | None, typer.Option("--video", help="Video file to play the loop on.", show_default=False)] = None,
    frames: Annotated[Path | None, typer.Option("--frames", help="Folder of images, taken in name order as frames.", show_default=False)] = None,
    max_frames: Annotated[int | None, typer.Option("--max-frames", min=1, help="Stop after N frames of the source (skipped ones count).", show_default=False)] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Analyse every Nth frame (the others are skipped unread).")] = 1,
    fps: Annotated[float | None, typer.Option("--fps", help="Frames per second of a --frames folder (default 1); overrides a video's own rate.", show_default=False)] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="Play a --video or --frames folder at its own pace, as a camera: frames the analysis is too slow for are dropped (a camera always is).")] = False,
    in_flight: Annotated[int, typer.Option("--in-flight", min=1, help="Frames analysed at once (worker threads, sharing the cores) while the loop decides on earlier ones; 1: one at a time.")] = 2,
    screen: Annotated[str | None, typer.Option("--screen", help="Screen id on every event (default: ADLENS_SCREEN).", show_default=False)] = None,
    show: Annotated[bool | None, typer.Option("--show/--no-show", help="Show the ad in a full-screen window (default: when a GUI exists).", show_default=False)] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the run's summary as JSON to this file.", show_default=False)] = None,
) -> None:
    """Watch the audience in front of a screen and play the right ad: give one of --camera, --video or --frames.

    Faces are tracked across frames; an ad is chosen at the start, when it ends and when people come or go.
    The loop never falls behind a camera: when a frame takes longer than the camera's frame interval, the frames in between are dropped (counted in the summary).
    Every decision and every play is logged to the event store (aggregate audience numbers only, no images).
    A window needs a GUI: adlens installs opencv-python-headless, which has none (install opencv-python and run on a desktop); without one, decisions are only logged.
    Ctrl-C stops cleanly. Exit 0 if any frame was analysed, 1 if none could be, 2 on a usage error.
    """
    from adlens.signage import SignageLoop, choose_display, open_source
    from adlens.cli.common import open_store

    settings = divide_cores(get_settings(), in_flight)  # frames analysed at once share the cores
    screen = screen or settings.screen
    source = open_source(camera, video, frames, fps=fps, every=every, max_frames=max_frames, realtime=realtime,
                         on_problem=lambda message: err.print(f"[yellow]skipped[/yellow] {escape(message)}",
                                                              highlight=False))
    with source:
        store = open_store()
        try:
            display = choose_display(show, log=_log,
                                     warn=lambda message: err.print(f"[yellow]warning:[/yellow] {escape(message)}",
                                                                    highlight=False))
            with err.status(f"signage on {escape(source.name)}") as status:
                def on_frame(frame: Frame, tracks: list[Track]) -> None:
                    playing = escape(loop.now_playing or "nothing")
                    status.update(f"frame {frame.index + 1} · {frame.t:.1f} s · {len(tracks)} people · {playing}")

                loop = SignageLoop(source, _make_decider(store, settings), store, screen, settings, display, on_frame=on_frame,
                                  in_flight=in_flight)
                summary = loop.run()
        finally:
            store.close()
    _print_summary(summary.to_json(), screen)
    if json_file is not None:
        write_json({"screen": screen, **summary.to_json()}, json_file)
    if summary.frames_analysed == 0:
        raise typer.Exit(1)


def _print_summary(summary: dict[str, Any], screen: str) -> None:
    table = Table(title=f"signage on screen {escape(screen)}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [("frames read", summary["frames_read"]), ("frames analysed", summary["frames_analysed"]),
            ("frames dropped", summary["frames_dropped"]), ("bad frames", summary["bad_frames"]), ("people tracked", summary["tracks"]),
            ("decisions", summary["decisions"]), ("plays", summary["plays"])]
    rows += [(f"  {escape(ad)}", f"{seconds:.1f} s") for ad, seconds in sorted(summary["seconds_by_ad"].items())]
    for what, value in rows:
        table.add_row(what, str(value))
    if summary["interrupted"]:
        table.add_row("stopped", "Ctrl-C")
    out.print(table)
