"""Model format converters, written for adlens (no third-party converter at run time).

:mod:`adlens.convert.keras` turns a Keras full-model HDF5 file into an ONNX graph.
"""
