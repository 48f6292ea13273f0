"""Package attributes imported on first use (PEP 562), so that a light submodule does not load its whole package.

``adlens.decision.record`` is plain dataclasses, but importing it runs ``adlens/decision/__init__.py``
first; were that to import the engine, every user of a record would load scikit-learn. A package
lists its public names with :func:`lazy_attributes` instead, and imports them for type checkers only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: each name of ``homes`` imported from its module on first use.

    A home is a module name, relative to ``package`` when it starts with a dot (``".engine"``).
    The value is then kept on the package, as an eager import would have kept it.
    """

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(homes[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


__all__ = ["lazy_attributes"]
