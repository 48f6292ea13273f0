"""Batch analysis of millions of images on Ray (``adlens analyze --ray``, ``adlens catalog import --ray``).

Ray is an optional extra (``pip install adlens[ray]``): only the modules that run the work
(:mod:`adlens.batch.cluster`, :mod:`adlens.batch.analyse`) import it, and only inside their
functions, so importing the CLI never does. :mod:`adlens.batch.inputs` turns folders, list
files and manifests into paths; :mod:`adlens.batch.outputs` writes the results so that a run
killed half-way and started again skips what is done and loses nothing already written.
"""
