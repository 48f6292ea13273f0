"""Accuracy evaluations on labelled folders, one module per kind of model.

:mod:`~adlens.evaluation.demographics` (emotion, age and gender),
:mod:`~adlens.evaluation.verification` (same person or not),
:mod:`~adlens.evaluation.attributes` (eyewear, beard, hat) and
:mod:`~adlens.evaluation.fairness` (age and gender per gender × ethnicity group, false matches
between strangers; statistics in :mod:`~adlens.evaluation.groupstats`). Each function returns a
plain dict (the ``--json`` of ``adlens eval ...``) and takes a ``track`` wrapper for
progress reporting (:func:`~adlens.evaluation.common.no_track` by default).
"""
