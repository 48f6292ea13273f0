"""The emotion network adlens trains (PyTorch, training only) and its ONNX export.

A VGG-style stack of 3×3 convolutions with batch norm, each stage ending in a 2×2 max pool
(48 → 24 → 12 → 6 → 3), then global average pooling, dropout and one linear layer. An
architecture is named by its widths, e.g. ``"32-64-128-256x2"``: four stages of two
convolutions each. :class:`WithFlip` is what ships: it runs the net on the batch and on its
mirror image in one pass and averages the two softmaxes (test-time flip inside the graph).

Importing this module imports torch: only training code and the tests do.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
from torch import nn

from adlens.errors import InvalidInputError
from adlens.faces import EMOTIONS

SIZE = 48
"""Input side in pixels: FER2013's own size; the face box, grey, resized to it, values x / 255."""
DEFAULT_ARCH = "32-64-128-256x2"
_ARCH = re.compile(r"^(\d+(?:-\d+)*)x(\d+)$")


def parse_arch(arch: str) -> tuple[tuple[int, ...], int]:
    """Widths per stage and convolutions per stage of an architecture name like ``"32-64-128-256x2"``."""
    match = _ARCH.match(arch)
    if not match:
        raise InvalidInputError(f"architecture {arch!r} is not WIDTH-WIDTH-...xCONVS, e.g. {DEFAULT_ARCH!r}")
    widths = tuple(int(w) for w in match.group(1).split("-"))
    convs = int(match.group(2))
    if not widths or min(widths) < 1 or convs < 1 or SIZE % (2 ** len(widths)):
        raise InvalidInputError(f"architecture {arch!r}: widths and convolutions must be positive, at most 4 stages")
    return widths, convs


class EmotionNet(nn.Module):
    """VGG-style FER network: ``(n, 1, 48, 48)`` float in [0, 1] → ``(n, 7)`` logits."""

    def __init__(self, arch: str = DEFAULT_ARCH, dropout: float = 0.3) -> None:
        super().__init__()
        widths, convs = parse_arch(arch)
        layers: list[nn.Module] = []
        channels = 1
        for width in widths:
            for _ in range(convs):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels, len(EMOTIONS)))
        self.arch = arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features((x - 0.5) * 4.0))


class WithFlip(nn.Module):
    """The shipped graph: mean of the softmaxes of the batch and of its left-right mirror."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        both = torch.softmax(self.net(torch.cat([x, torch.flip(x, dims=[3])], dim=0)), dim=1)
        # reshape, not slicing at x.shape[0]: the tracer would freeze that count into the graph
        return both.reshape(2, -1, both.shape[1]).mean(dim=0)


class Plain(nn.Module):
    """The net's softmax alone (no flip): the metric "without TTA" and the latency of one pass."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)


def export_onnx(net: nn.Module, path: Path, flip: bool = True) -> Path:
    """Write ``net`` (eval mode, CPU) as ONNX: input ``face`` ``(n, 1, 48, 48)``, output ``emotion`` ``(n, 7)``."""
    net = net.to("cpu").eval()
    # eval() on the wrapper too: the exporter restores the wrapper's mode, and would put the net back in training
    module = (WithFlip(net) if flip else Plain(net)).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 1, SIZE, SIZE)
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter warns it is legacy; the new one needs onnxscript, which adlens does not install
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module, (example,), str(path), input_names=["face"], output_names=["emotion"],
            dynamic_axes={"face": {0: "n"}, "emotion": {0: "n"}}, opset_version=17, dynamo=False,
        )
    return path
