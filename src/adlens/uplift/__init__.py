"""Offers: uplift modelling for targeted campaigns, and what customers buy next.

- :mod:`adlens.uplift.tables` reads campaign tables (CSV) with clear errors.
- :mod:`adlens.uplift.features` turns a table into a feature matrix, the same way at fit and score time.
- :mod:`adlens.uplift.learners` holds the uplift learners (S, T, X, class transformation) on the
  scikit-learn contract, built on scikit-uplift.
- :mod:`adlens.uplift.metrics` evaluates uplift scores (Qini, AUUC, uplift@k) with scikit-uplift.
- :mod:`adlens.uplift.simulate` makes a synthetic telecom campaign with a known true uplift.
- :mod:`adlens.uplift.brands` reads a purchases table's brand and feature columns.
- :mod:`adlens.uplift.nextpurchase` predicts the next phone manufacturer (loyalty);
  :mod:`adlens.uplift.nextscores` scores it against two baselines.
- :mod:`adlens.uplift.loyalty` computes the loyalty matrix; :mod:`adlens.uplift.loyalty_report`
  draws it and writes the next-purchase HTML report.
- :mod:`adlens.uplift.report` writes the uplift HTML report; :mod:`adlens.uplift.persist` saves models.

Importing this package imports neither pandas nor scikit-learn.
"""
