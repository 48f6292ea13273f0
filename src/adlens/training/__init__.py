"""Training of the models adlens ships itself: the eyewear / beard / hat head.

:mod:`~adlens.training.labelled` reads labelled faces, :mod:`~adlens.training.synthetic` makes
synthetic faces (product sunglasses and caps placed by landmarks), :mod:`~adlens.training.attributes`
turns labelled and synthetic faces into feature rows the way the pipeline does at run time (kept
by :mod:`~adlens.training.cache`), :mod:`~adlens.training.validation` cross-validates (data sets
together and apart), :mod:`~adlens.training.calibration` calibrates and picks thresholds,
:mod:`~adlens.training.head` is the learner and its ONNX export, and
:mod:`~adlens.training.recipe` runs it all (``adlens train attributes``) and writes the
model, its metrics and its model card (:mod:`~adlens.training.card`).

The emotion net (``adlens train emotion``) is trained with PyTorch in
:mod:`~adlens.training.emotion` (the loop), :mod:`~adlens.training.emotion_arch` (the network and its
ONNX export), :mod:`~adlens.training.emotion_data` (FER folders) and :mod:`~adlens.training.emotion_report`
(report and card); they import torch, so this package does not import them.
"""

from __future__ import annotations

from adlens.training.head import AttributeHead
from adlens.training.recipe import AttributeTraining, TrainedHead, save_attribute_head, train_attribute_head

__all__ = ["AttributeHead", "AttributeTraining", "TrainedHead", "save_attribute_head", "train_attribute_head"]
