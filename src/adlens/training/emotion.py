"""``adlens train emotion``: train :class:`~adlens.training.emotion_arch.EmotionNet` on FER2013, resumably.

The data are read once into uint8 arrays (:mod:`~adlens.training.emotion_data`) and moved to
the device whole; augmentation runs there on whole batches (:func:`augment`: one random affine
warp per face for the padded crop, flip, rotation and scale, then random erasing). Loss:
cross-entropy with label smoothing; SGD with Nesterov momentum and a per-step cosine schedule
after a short warm-up. After each epoch the net is scored on the validation folder (with and
without the mirror image) and everything needed to go on (net, optimiser, schedule, RNG states,
epoch, best score and its weights) is written to ``WORK/checkpoint.pt`` atomically; run again with
the same work folder and training resumes at the next epoch. Torch is imported here only.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adlens.files import atomic_path
from adlens.errors import InvalidInputError, ModelUnavailableError
from adlens.evaluation.common import Track, no_track

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ModelUnavailableError(
        "training the emotion model needs PyTorch: pip install 'adlens[train]' (torch==2.13.0)"
    ) from error

from adlens.training.emotion_arch import DEFAULT_ARCH, EmotionNet, parse_arch
from adlens.training.emotion_data import cached_fer

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class EmotionTraining:
    """What defines one training run (stored in the checkpoint; a resume must use the same)."""

    data: Path
    val: Path
    epochs: int = 60
    arch: str = DEFAULT_ARCH
    batch_size: int = 128
    lr: float = 0.05
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_epochs: int = 2
    dropout: float = 0.3
    seed: int = 0

    def check(self) -> None:
        """Raise :class:`InvalidInputError` on a value training cannot use."""
        parse_arch(self.arch)
        if self.epochs < 1 or self.batch_size < 2 or self.lr <= 0 or not 0 <= self.label_smoothing < 1:
            raise InvalidInputError("epochs >= 1, batch size >= 2, lr > 0 and 0 <= label smoothing < 1 are needed")

    def recipe(self) -> dict[str, Any]:
        """The run's settings as plain JSON values."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}

    def command(self, work: Path) -> str:
        """The ``adlens train emotion`` command line that reproduces (or resumes) this run."""
        return (f"adlens train emotion --data {self.data} --val {self.val} --work {work} --epochs {self.epochs} "
                f"--arch {self.arch} --batch-size {self.batch_size} --lr {self.lr:g} --seed {self.seed}")


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when present, else the CPU; ``cuda`` without a GPU is an error."""
    if name not in ("auto", "cpu", "cuda"):
        raise InvalidInputError(f"device {name!r}: choose auto, cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("--device cuda: no CUDA GPU is visible to PyTorch")
    return torch.device("cuda" if name != "cpu" and torch.cuda.is_available() else "cpu")


def augment(x: torch.Tensor, generator: torch.Generator, pad: float = 4 / 48, degrees: float = 10.0,
            scale: float = 0.1, erase: float = 0.5) -> torch.Tensor:
    """A randomly augmented copy of a batch ``(n, 1, 48, 48)`` float, all on its device in a few tensor ops.

    One affine warp per face does the padded random crop (shift up to ``pad`` of the side, border
    replicated), the left-right flip (half the faces), a rotation up to ``degrees`` and a scale of
    1 ± ``scale``; then, with probability ``erase``, a random rectangle (2-20% of the area) becomes noise.
    """
    n, device = x.shape[0], x.device

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator, device=device) * (high - low) + low

    angle = uniform(-degrees, degrees) * math.pi / 180
    zoom = uniform(1 - scale, 1 + scale)
    flip = torch.where(torch.rand(n, generator=generator, device=device) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([
        torch.stack([cos * flip, -sin, uniform(-2 * pad, 2 * pad)], 1),
        torch.stack([sin * flip, cos, uniform(-2 * pad, 2 * pad)], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    side = x.shape[-1]
    area = uniform(0.02, 0.2) * side * side
    ratio = torch.exp(uniform(math.log(0.3), math.log(3.3)))
    h = torch.sqrt(area * ratio).clamp(1, side - 1)
    w = torch.sqrt(area / ratio).clamp(1, side - 1)
    top, left = uniform(0, 1) * (side - h), uniform(0, 1) * (side - w)
    rows = torch.arange(side, device=device).view(1, side, 1)
    cols = torch.arange(side, device=device).view(1, 1, side)
    box = ((rows >= top.view(n, 1, 1)) & (rows < (top + h).view(n, 1, 1))
           & (cols >= left.view(n, 1, 1)) & (cols < (left + w).view(n, 1, 1)))
    box &= (torch.rand(n, generator=generator, device=device) < erase).view(n, 1, 1)
    noise = torch.rand(out.shape, generator=generator, device=device)
    return torch.where(box.unsqueeze(1), noise, out)


def _as_input(images: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(images).to(device).unsqueeze(1)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255.0


@torch.no_grad()
def score(net: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch: int = 512) -> dict[str, Any]:
    """Accuracy of ``net`` on uint8 images ``(n, 1, 48, 48)`` (on its device), plain and with the mirror image."""
    net.eval()
    plain, flipped = [], []
    for start in range(0, len(images), batch):
        x = _unit(images[start:start + batch])
        p = torch.softmax(net(x), 1)
        plain.append(p)
        flipped.append((p + torch.softmax(net(torch.flip(x, dims=[3])), 1)) / 2)
    p, q = torch.cat(plain), torch.cat(flipped)
    return {"accuracy": float((p.argmax(1) == labels).float().mean()),
            "accuracy_flip": float((q.argmax(1) == labels).float().mean())}


def _save_atomic(state: dict[str, Any], path: Path) -> None:
    with atomic_path(path, "the checkpoint") as partial:
        torch.save(state, partial)


def _schedule(config: EmotionTraining, steps_per_epoch: int) -> Callable[[int], float]:
    warmup, total = config.warmup_epochs * steps_per_epoch, config.epochs * steps_per_epoch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))
    return factor


def load_checkpoint(work: Path) -> dict[str, Any] | None:
    """The checkpoint in ``work``, or None when there is none yet."""
    path = Path(work) / CHECKPOINT
    if not path.is_file():
        return None
    return dict(torch.load(path, map_location="cpu", weights_only=False))


def best_net(checkpoint: dict[str, Any]) -> EmotionNet:
    """The net of the best epoch so far (CPU, eval mode)."""
    config = checkpoint["config"]
    net = EmotionNet(config["arch"], config["dropout"])
    net.load_state_dict(checkpoint["best"]["state"])
    return net.eval()


def train_emotion(config: EmotionTraining, work: Path, device: str = "auto", track: Track = no_track,
                  log: Callable[[str], None] = print, stop_after: int | None = None) -> dict[str, Any]:
    """Train (or resume) in ``work`` until ``config.epochs`` (or ``stop_after`` more epochs); the last checkpoint.

    Raises:
        InvalidInputError: bad settings, a bad data folder, or a work folder holding another run.
    """
    config.check()
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    dev = pick_device(device)
    checkpoint = load_checkpoint(work)
    if checkpoint is not None and checkpoint["config"] != config.recipe():
        raise InvalidInputError(f"{work} holds a run with other settings ({checkpoint['config']}); "
                                "use another --work folder or the same settings")
    train_x, train_y = cached_fer(config.data, work, "train", track)
    val_x, val_y = cached_fer(config.val, work, "val", track)
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    # channels-last convolutions run about 1.5x faster on CPUs (oneDNN) and suit tensor cores too
    net = EmotionNet(config.arch, config.dropout).to(dev).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    optimiser = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                                weight_decay=config.weight_decay)
    steps = len(train_x) // config.batch_size
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, _schedule(config, steps))
    generator = torch.Generator(device=dev)
    generator.manual_seed(config.seed)
    state: dict[str, Any] = {"config": config.recipe(), "epoch": 0, "best": None, "history": []}
    if checkpoint is not None:
        net.load_state_dict(checkpoint["net"])
        optimiser.load_state_dict(checkpoint["optimiser"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        if checkpoint["rng"]["device"] == dev.type:
            generator.set_state(checkpoint["rng"]["generator"])
            if dev.type == "cuda":  # dropout draws from CUDA's default generator there
                torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
        else:  # a CPU generator's state does not fit a CUDA one: go on with a seed of its own
            generator.manual_seed(config.seed * 1000 + checkpoint["epoch"])
        torch.set_rng_state(checkpoint["rng"]["torch"])
        state = checkpoint
        log(f"resuming {work} after epoch {state['epoch']} of {config.epochs}")
    images, labels = _as_input(train_x, dev), torch.from_numpy(train_y).to(dev)
    val_images, val_labels = _as_input(val_x, dev), torch.from_numpy(val_y).to(dev)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    last = config.epochs if stop_after is None else min(config.epochs, state["epoch"] + stop_after)
    for epoch in range(state["epoch"] + 1, last + 1):
        started = time.perf_counter()
        net.train()
        order = torch.randperm(len(images), generator=generator, device=dev)
        total = 0.0
        for step in track(range(steps), f"epoch {epoch}/{config.epochs}", steps):
            index = order[step * config.batch_size:(step + 1) * config.batch_size]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                loss = loss_fn(net(augment(_unit(images[index]), generator)), labels[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += float(loss.detach())
        metrics = score(net, val_images, val_labels)
        row = {"epoch": epoch, "loss": total / steps, **metrics, "seconds": round(time.perf_counter() - started, 1)}
        state["history"].append(row)
        if state["best"] is None or metrics["accuracy_flip"] > state["best"]["accuracy_flip"]:
            weights = {k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}
            state["best"] = {"epoch": epoch, **metrics, "state": weights}
        state.update(epoch=epoch, net=net.state_dict(), optimiser=optimiser.state_dict(),
                     scheduler=scheduler.state_dict(),
                     rng={"generator": generator.get_state(), "torch": torch.get_rng_state(), "device": dev.type,
                          "cuda": torch.cuda.get_rng_state_all() if dev.type == "cuda" else []})
        _save_atomic(state, work / CHECKPOINT)
        log(f"epoch {epoch}: loss {row['loss']:.3f}, val {metrics['accuracy']:.4f} (flip {metrics['accuracy_flip']:.4f}), "
            f"best {state['best']['accuracy_flip']:.4f} at epoch {state['best']['epoch']}, {row['seconds']:.0f} s")
    return state
