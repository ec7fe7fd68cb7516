"""Label quality math: inter-annotator agreement with bootstrap intervals, and annotator pace.

Pure numpy / scikit-learn / krippendorff code with no Django imports (DESIGN.md §3), unit-tested alone.

- metrics.py  raw agreement, Cohen's κ (scikit-learn), Krippendorff's α nominal (krippendorff package),
              each with the number of shots it rests on and a seeded bootstrap confidence interval;
              `agreement_report` builds the project + per-pair report stored by the worker
- pace.py     labels per hour and median seconds per label from audit timestamps
"""

from .metrics import (
    CATEGORIES,
    Estimate,
    Rating,
    agreement_report,
    cohen_kappa,
    krippendorff_alpha,
    pair_estimates,
    project_estimates,
    raw_agreement,
)
from .pace import Pace, annotator_pace

__all__ = [
    "CATEGORIES",
    "Estimate",
    "Pace",
    "Rating",
    "agreement_report",
    "annotator_pace",
    "cohen_kappa",
    "krippendorff_alpha",
    "pair_estimates",
    "project_estimates",
    "raw_agreement",
]
