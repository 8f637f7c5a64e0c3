"""What a report is made with: its options, and what every kind's sections are given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vaekit.report.views import LatentRanking, SplitData
from vaekit.run import Run


@dataclass
class ReportOptions:
    seed: int = 0  # of every draw in the report (samples, quick evaluation)
    num_samples: int = 64
    num_reconstructions: int = 16
    traversal_steps: int = 10
    traversal_range: float = 3.0
    kl_examples: int = 1000  # test examples the KL per dimension averages over (and a table's real rows)
    quick_examples: int = 500  # the quick evaluation, when the run directory has no evaluate report
    quick_iw_samples: int = 100
    table_samples: int = 2000  # rows drawn from a table run for its marginals and correlations
    table_rows_shown: int = 10  # sampled rows (and test rows with their reconstructions) printed as a table
    text_rows: int = 10  # sampled sentences, and test sentences with their reconstructions
    temperature: float = 1.0  # of the sampled sentences (1: the model's own distribution; towards 0: greedy)
    homotopies: int = 2  # pairs of test sentences joined by a homotopy
    homotopy_steps: int = 7  # points decoded on each
    num_molecules: int = 20  # molecules drawn (with RDKit) in a SMILES run's Molecules section


@dataclass
class Context:
    """What the sections of every kind are made from: the run, the options, the first test examples (up to
    max(kl_examples, num_reconstructions)) and the latent dimensions ranked over them (None without
    `latent_vector`)."""

    run: Run
    options: ReportOptions
    data: SplitData
    ranking: LatentRanking | None
    log: Callable[[str], None]


Sections = list[tuple[str, str]]  # (title, HTML body) in page order
