"""Synthetic rows checked against real ones: pure functions of DataFrames (in the table's own units) and the columns
of a DataSpec.

    column shapes   per column, 1 - the Kolmogorov-Smirnov statistic sup_v |F_real(v) - F_synth(v)| of a real or
                    count column (SDMetrics' KSComplement), 1 - the total-variation distance
                    1/2 sum_c |p_real(c) - p_synth(c)| of a binary or categorical one (TVComplement); 1 is identical
    pair trends     per pair of columns, 1 - |r_real - r_synth| / 2 of two numeric columns' Pearson correlations
                    (CorrelationSimilarity), 1 - 1/2 sum_ab |p_real(a, b) - p_synth(a, b)| of the joint table of two
                    categorical columns, or of a categorical and a numeric one cut in 10 bins (ContingencySimilarity)
    ML efficacy     train-on-synthetic-test-on-real (TSTR) against train-on-real-test-on-real (TRTR): a random forest
                    predicts a target column from the others; accuracy and macro F1 (a class), or R^2 (a number)
    DCR             distance to closest record: each synthetic row's Euclidean distance to its nearest training row,
                    against each real test row's, with real and count columns standardized by the training rows'
                    mean and std and categories one-hot; a synthetic row closer than almost every real test row
                    (under the test distances' 5th percentile) is a likely copy of a training row (a privacy risk)

The first four are SDMetrics' (sdmetrics, MIT; the SDV project's measures, named as it names them). A generator
that copied its training rows would score 1 on every shape and trend: DCR is what tells copying from learning.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from vaekit.spec import Column, DataSpec

NUMERIC = ("real", "count")
DCR_QUANTILE = 0.05  # a synthetic row closer to the training rows than this share of real test rows is flagged
COPY_DISTANCE = 1e-6  # standardized distance under which a synthetic row is taken as a copy of a training row


def table_columns(spec: DataSpec, frame: pd.DataFrame) -> list[Column]:
    """The spec's columns, and its label column where `frame` has it (a conditional model's rows carry it)."""
    label = [spec.label] if spec.label is not None and spec.label.name in frame.columns else []
    return [*spec.columns, *label]


def _numeric(column: Column) -> bool:
    return column.type in NUMERIC


def _nan_to_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[Column]) -> dict[str, dict]:
    """{column: {"type", "metric", "score"}}: KSComplement of a real or count column, TVComplement of the others."""
    from sdmetrics.single_column import KSComplement, TVComplement  # imported here: sdmetrics takes seconds

    shapes = {}
    for c in columns:
        if _numeric(c):
            metric, score = "KSComplement", KSComplement.compute(real[c.name], synthetic[c.name])
        else:
            metric, score = (
                "TVComplement",
                TVComplement.compute(real[c.name].astype(str), synthetic[c.name].astype(str)),
            )
        shapes[c.name] = {"type": c.type, "metric": metric, "score": _nan_to_none(score)}
    return shapes


def pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[Column]) -> list[dict]:
    """One record per pair of columns: {"columns": [a, b], "metric", "score", "real", "synthetic"}.

    Two numeric columns: CorrelationSimilarity of their Pearson correlations ("real", "synthetic": the two r); else
    ContingencySimilarity of their joint frequencies, a numeric column cut in SDMetrics' 10 bins ("real",
    "synthetic": None). A score is None where it is undefined (a constant column has no correlation).
    """
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity

    trends = []
    for a, b in itertools.combinations(columns, 2):
        names = [a.name, b.name]
        if _numeric(a) and _numeric(b):
            r_real = real[names].astype(float).corr().iloc[0, 1]
            r_synth = synthetic[names].astype(float).corr().iloc[0, 1]
            score = CorrelationSimilarity.compute(real[names], synthetic[names], coefficient="Pearson")
            record = {
                "metric": "CorrelationSimilarity",
                "real": _nan_to_none(r_real),
                "synthetic": _nan_to_none(r_synth),
            }
        else:
            continuous = [c.name for c in (a, b) if _numeric(c)]
            as_text = {c.name: str for c in (a, b) if not _numeric(c)}
            score = ContingencySimilarity.compute(
                real[names].astype(as_text), synthetic[names].astype(as_text), continuous_column_names=continuous
            )
            record = {"metric": "ContingencySimilarity", "real": None, "synthetic": None}
        trends.append({"columns": names, **record, "score": _nan_to_none(score)})
    return trends


def design_matrices(frames: list[pd.DataFrame], columns: list[Column], reference: int = 0) -> list[np.ndarray]:
    """Each frame's rows as numbers (N_i, P) float64 on one scale: real and count columns standardized by the mean and
    std of frames[reference] (the training rows), binary and categorical columns one-hot over every value seen."""
    parts: list[list[np.ndarray]] = [[] for _ in frames]
    for c in columns:
        if _numeric(c):
            ref = frames[reference][c.name].to_numpy(dtype=np.float64)
            mean, std = ref.mean(), ref.std()
            std = std if std > 0 else 1.0
            for part, frame in zip(parts, frames, strict=True):
                part.append(((frame[c.name].to_numpy(dtype=np.float64) - mean) / std)[:, None])
        else:
            values = [frame[c.name].astype(str).to_numpy() for frame in frames]
            categories = np.unique(np.concatenate(values))
            for part, v in zip(parts, values, strict=True):
                part.append((v[:, None] == categories[None, :]).astype(np.float64))
    return [np.concatenate(part, axis=1) for part in parts]


def distance_to_closest_record(
    train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, columns: list[Column]
) -> dict:
    """Each synthetic row's distance to its closest training row against each real test row's (design_matrices).

    Returns the 5th, 25th and 50th percentiles of both sets of distances, the share of synthetic rows closer than the
    test distances' 5th percentile (about 0.05 for a generator that does not copy; well above it, copying), and
    the share of synthetic rows that are copies of a training row (distance under COPY_DISTANCE).
    """
    from sklearn.neighbors import NearestNeighbors

    x_train, x_test, x_synth = design_matrices([train, test, synthetic], columns)
    nearest = NearestNeighbors(n_neighbors=1).fit(x_train)
    d_synth = nearest.kneighbors(x_synth)[0][:, 0]  # (S,)
    d_test = nearest.kneighbors(x_test)[0][:, 0]  # (M,)
    threshold = float(np.quantile(d_test, DCR_QUANTILE))

    def quantiles(d: np.ndarray) -> dict[str, float]:
        return {f"p{round(100 * q):02d}": float(np.quantile(d, q)) for q in (0.05, 0.25, 0.5)}

    return {
        "synthetic": quantiles(d_synth),
        "test": quantiles(d_test),
        "test_p05": threshold,
        "share_closer_than_test_p05": float(np.mean(d_synth < threshold)),
        "share_copies": float(np.mean(d_synth < COPY_DISTANCE)),
    }


def ml_efficacy(
    train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, columns: list[Column], target: str, seed: int = 0
) -> dict:
    """TSTR against TRTR: a random forest (scikit-learn, 100 trees, `seed`) fitted on the synthetic rows and on the
    real training rows predicts `target` from the other columns of the real test rows.

    A class (binary, categorical target): accuracy and macro F1; a number (real, count): R^2. Returns
    {"target", "task", "model", "metric", "tstr", "trtr", and the other metric's pair}.
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    by_name = {c.name: c for c in columns}
    if target not in by_name:
        raise KeyError(target)
    features = [c for c in columns if c.name != target]
    x_train, x_test, x_synth = design_matrices([train, test, synthetic], features)
    classify = not _numeric(by_name[target])

    def labels(frame: pd.DataFrame) -> np.ndarray:
        return frame[target].astype(str).to_numpy() if classify else frame[target].to_numpy(dtype=np.float64)

    y_test = labels(test)
    scores: dict[str, dict[str, float]] = {}
    for name, x, y in (("tstr", x_synth, labels(synthetic)), ("trtr", x_train, labels(train))):
        if classify:
            model = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1).fit(x, y)
            predicted = model.predict(x_test)
            scores[name] = {
                "accuracy": float(accuracy_score(y_test, predicted)),
                "macro_f1": float(f1_score(y_test, predicted, average="macro")),
            }
        else:
            model = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1).fit(x, y)
            scores[name] = {"r2": float(r2_score(y_test, model.predict(x_test)))}
    metric = "accuracy" if classify else "r2"
    result = {
        "target": target,
        "task": "classification" if classify else "regression",
        "model": "RandomForest" + ("Classifier" if classify else "Regressor") + "(100 trees)",
        "metric": metric,
        "tstr": scores["tstr"][metric],
        "trtr": scores["trtr"][metric],
    }
    if classify:
        result.update(tstr_macro_f1=scores["tstr"]["macro_f1"], trtr_macro_f1=scores["trtr"]["macro_f1"])
    return result


def synthetic_quality(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synthetic: pd.DataFrame,
    spec: DataSpec,
    target: str | None = None,
    seed: int = 0,
) -> dict:
    """Every measure of this module for synthetic rows against the real training and test rows, as JSON-ready numbers.

    Shapes and trends compare the synthetic rows with the real training rows (what the generator saw); ML efficacy
    and DCR use the test rows too. `target`: the column ML efficacy predicts (None: not measured). Scores are in
    [0, 1], higher is closer; `column_shapes_score` and `pair_trends_score` are the means of the defined ones.
    """
    columns = table_columns(spec, synthetic)
    shapes = column_shapes(train, synthetic, columns)
    trends = pair_trends(train, synthetic, columns)

    def mean(values: list) -> float | None:
        defined = [v for v in values if v is not None]
        return float(np.mean(defined)) if defined else None

    return {
        "column_shapes_score": mean([s["score"] for s in shapes.values()]),
        "pair_trends_score": mean([t["score"] for t in trends]),
        "column_shapes": shapes,
        "pair_trends": trends,
        "ml_efficacy": None if target is None else ml_efficacy(train, test, synthetic, columns, target, seed),
        "dcr": distance_to_closest_record(train, test, synthetic, columns),
        "num_train": len(train),
        "num_test": len(test),
        "num_synthetic": len(synthetic),
    }
