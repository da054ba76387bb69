"""``doorward face``: calibrate the verification threshold, check a photo's capture quality."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from doorward.errors import CaptureRejected, InvalidInput

__all__ = ["register"]

face_app = typer.Typer(
    help="Opt-in face verification (1:1 second factor): calibration and capture checks.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(face_app, name="face")


@face_app.command("calibrate")
def calibrate(
    path: Annotated[
        Path, typer.Argument(help="Folder laid out as people/<person>/*.jpg (or <person>/*.jpg).")
    ],
    target_far: Annotated[
        float,
        typer.Option("--target-far", help="False-accept rate to hold, e.g. 0.001.", min=1e-6),
    ] = 1e-3,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the calibration (with provenance) as JSON."),
    ] = None,
) -> None:
    """Pick the distance threshold for a target FAR from genuine and impostor pairs."""
    from doorward.face.calibrate import calibrate_folder, person_folders

    if not 0.0 < target_far < 1.0:
        raise InvalidInput(
            f"--target-far must be between 0 and 1, got {target_far}",
            hint="use a small rate such as 0.001 (one impostor in a thousand)",
        )
    total = sum(len(p) for p in person_folders(path).values())
    console = Console(stderr=True)
    with Progress(
        TextColumn("embedding photos"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("embed", total=total)
        result = calibrate_folder(
            path, target_far=target_far, on_photo=lambda _p: progress.advance(task)
        )
    typer.echo(f"people {result.people}, photos {result.photos}, skipped {len(result.skipped)}")
    for line in result.skipped:
        typer.echo(f"  skipped {line}")
    typer.echo(f"genuine pairs {result.genuine_pairs}, impostor pairs {result.impostor_pairs}")
    typer.echo(
        f"threshold {result.threshold:.4f} for target FAR {target_far:g}: "
        f"FAR {result.far:.4%} ({result.false_accepts} of {result.impostor_pairs}), "
        f"TAR {result.tar:.2%}"
    )
    if result.impostor_pairs * target_far < 1:
        typer.echo(
            f"note: {result.impostor_pairs} impostor pairs cannot resolve a FAR of "
            f"{target_far:g}; the threshold sits just under the closest impostor"
        )
    if output is not None:
        output.write_text(result.to_json())
        typer.echo(f"wrote {output}")


@face_app.command("check")
def check(
    photo: Annotated[Path, typer.Argument(help="A photo to run the capture checks on.")],
) -> None:
    """Run the capture-quality checks (one face, size, pose, light, blur) on one photo."""
    from doorward.face.calibrate import load_frame
    from doorward.face.capture import check_capture, face_lighting, face_sharpness, pose_of
    from doorward.face.embed import FaceEngine

    if not photo.is_file():
        raise InvalidInput(f"{photo} is not a file", hint="pass the path of a JPEG or PNG photo")
    frame = load_frame(photo)
    engine = FaceEngine()
    try:
        face = check_capture(frame, engine.locate(frame))
    except CaptureRejected as exc:
        typer.echo(f"refused: {exc.message}")
        if exc.hint:
            typer.echo(f"how to fix: {exc.hint}")
        raise typer.Exit(1) from exc
    pose = pose_of(face.landmarks)
    mean, contrast = face_lighting(frame, face.box)
    typer.echo(
        f"accepted: face {face.box.width} px, yaw {pose.yaw:+.2f}, roll {pose.roll_deg:+.0f}°, "
        f"pitch {pose.pitch:.2f}, brightness {mean:.0f}, contrast {contrast:.0f}, "
        f"sharpness {face_sharpness(frame, face.box):.0f}"
    )
