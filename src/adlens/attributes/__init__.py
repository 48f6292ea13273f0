"""Attribute models (emotion, age, gender, eyewear/beard/hat) and the one factory that picks them by name."""

from __future__ import annotations

from adlens.attributes.base import AttributeModel
from adlens.attributes.cydral import CydralAge, CydralGender
from adlens.attributes.emotion_ensemble import NetBigXceptionEmotion, XceptionPairEmotion
from adlens.attributes.emotion_net import EmotionNet
from adlens.attributes.face_attributes import FaceAttributes
from adlens.attributes.models import (
    BigXceptionEmotion,
    MiniXceptionEmotion,
    MiniXceptionGender,
    MobileNetAge,
    MobileNetGender,
)
from adlens.errors import UnknownNameError
from adlens.settings import Settings

ATTRIBUTE_MODELS: dict[str, type[AttributeModel]] = {
    cls.name: cls
    for cls in (EmotionNet, MiniXceptionEmotion, BigXceptionEmotion, XceptionPairEmotion, NetBigXceptionEmotion,
                MiniXceptionGender, MobileNetGender, MobileNetAge, FaceAttributes, CydralAge, CydralGender)
}


ALIASES: dict[str, str] = {"face-attributes": FaceAttributes.name}
"""Former names still accepted: ``ADLENS_FACE_ATTRIBUTES_MODEL=face-attributes`` was the default setting."""


def create_attribute_model(name: str, settings: Settings | None = None) -> AttributeModel:
    """The attribute model called ``name`` (a registry name, or one of the former names in :data:`ALIASES`).

    Raises:
        UnknownNameError: ``name`` is not one of :data:`ATTRIBUTE_MODELS`.
    """
    try:
        cls = ATTRIBUTE_MODELS[ALIASES.get(name, name)]
    except KeyError:
        known = ", ".join(ATTRIBUTE_MODELS)
        raise UnknownNameError(f"unknown attribute model {name!r}; choose one of: {known}") from None
    return cls(settings)


__all__ = ["ALIASES", "ATTRIBUTE_MODELS", "AttributeModel", "create_attribute_model"]
