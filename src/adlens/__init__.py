"""adlens: turn what a camera sees into the right ad or product.

The vision flow is one-way: image → :class:`~adlens.faces.Faces` → attributes.
Start with :class:`adlens.pipeline.Analyzer`.
"""

__version__ = "0.1.0"
