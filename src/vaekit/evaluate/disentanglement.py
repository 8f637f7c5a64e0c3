"""Disentanglement metrics: pure functions of codes, ground-truth factors (or an encoder of factors) and a generator.

Codes are the representation being scored, e.g. posterior means (N, D); factors are integer indices (N, K),
such as those of `vaekit.data.shapes`. MIG and DCI score given pairs (codes, factors). The beta-VAE and
FactorVAE scores draw their own factor combinations, so they take `encode`: a function from factor indices
(M, K) to codes (M, D), called with at most max(_MAX_ROWS, 2 * batch_size) rows at a time. In use it renders
the images (`vaekit.data.shapes.render`) and runs the encoder; in tests it maps factors to codes directly.

Every score lies in [0, 1], 1 for codes that hold each factor in its own dimension. For codes that hold no
information about the factors, MIG and DCI give about 0, while the beta-VAE and FactorVAE scores, being
classifier accuracies, give about chance, 1/K (FactorVAE gives exactly 0 when every dimension is pruned as
inactive, as for constant codes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vaekit.evaluate.boosting import boosted_importance

Encoder = Callable[[np.ndarray], np.ndarray]  # factor indices (M, K) -> codes (M, D)
_MAX_ROWS = 8192  # rows per call of `encode`, when batches allow


def usable_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _check_pairs(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors) or len(codes) < 2:
        raise ValueError(f"need codes (N, D) and factors (N, K) with N >= 2, got {codes.shape} and {factors.shape}")
    if factors.dtype.kind not in "uib":
        raise ValueError(f"factors must be integer indices, got {factors.dtype}")
    if not np.isfinite(codes).all():
        raise ValueError("codes hold NaN or infinite values")
    return codes, factors.astype(np.int64)


def discretize(codes: np.ndarray, num_bins: int) -> np.ndarray:
    """Each code dimension cut into `num_bins` equal-width bins over its range: bin indices (N, D)."""
    binned = np.empty(codes.shape, dtype=np.int64)
    for d, column in enumerate(np.asarray(codes, dtype=np.float64).T):
        edges = np.histogram_bin_edges(column, bins=num_bins)  # (num_bins + 1,)
        binned[:, d] = np.digitize(column, edges[1:-1])
    return binned


def mutual_information(binned: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Empirical mutual information in nats between each discrete code dimension and each factor: (D, K)."""
    from sklearn.metrics import mutual_info_score  # imported here: scikit-learn is slow to import

    return np.array([[mutual_info_score(f, z) for f in factors.T] for z in binned.T])


def mig(codes: np.ndarray, factors: np.ndarray, num_bins: int = 20) -> float:
    """Mutual information gap, Chen et al. 2018 (Isolating sources of disentanglement in VAEs).

    codes: (N, D) floats, discretized into `num_bins` bins per dimension; factors: (N, K) integers.
    Returns the mean over factors of (I(z_j1; v_k) - I(z_j2; v_k)) / H(v_k), j1 and j2 the two code
    dimensions most informative about v_k; constant factors are skipped.
    """
    codes, factors = _check_pairs(codes, factors)
    from sklearn.metrics import mutual_info_score

    mi = mutual_information(discretize(codes, num_bins), factors)  # (D, K)
    entropy = np.array([mutual_info_score(f, f) for f in factors.T])  # (K,) H(v_k)
    varies = entropy > 0
    if not varies.any():
        raise ValueError("every factor is constant: MIG is undefined")
    top = -np.sort(-mi, axis=0)  # (D, K), most informative dimension first
    second = top[1] if len(top) > 1 else np.zeros_like(top[0])
    gaps = (top[0] - second)[varies] / entropy[varies]  # (K',)
    return float(np.clip(gaps.mean(), 0.0, 1.0))


DCI_MODELS = ("boosting", "forest")


def _fit_importance(codes: np.ndarray, target: np.ndarray, model: str, num_trees: int | None, seed: int) -> np.ndarray:
    """Impurity importances (D,) of one tree ensemble that classifies `target` (N,) from `codes` (N, D)."""
    if model == "boosting":
        return boosted_importance(codes, target, np.random.default_rng(seed), num_trees or 100)
    from sklearn.ensemble import RandomForestClassifier  # imported here: scikit-learn is slow to import

    # max_features=None: every split sees every dimension, so importance is not spread by chance
    classifier = RandomForestClassifier(num_trees or 50, max_features=None, random_state=seed, n_jobs=1)
    return classifier.fit(codes, target).feature_importances_


def dci_importance(
    codes: np.ndarray,
    factors: np.ndarray,
    rng: np.random.Generator,
    model: str = "boosting",
    num_trees: int | None = None,
    num_workers: int | None = None,
) -> np.ndarray:
    """How much each code dimension serves to predict each factor, Eastwood & Williams 2018: (D, K).

    Column k holds the impurity importances of a tree ensemble that classifies factor k from the codes; it
    sums to 1, or to 0 when the codes allow no split (constant codes). model:
    - "boosting" (default): gradient-boosted trees with scikit-learn's defaults (`num_trees` = 100 stages of depth-3
      trees), the classifier of disentanglement_lib (Locatello et al. 2019), whose published DCI numbers use
      scikit-learn's GradientBoostingClassifier; `vaekit.evaluate.boosting` grows the same trees 3-5x faster
      (10000 dSprites codes: about 1.5 minutes of one core, against 6).
    - "forest": a random forest of `num_trees` = 50 fully grown trees (Eastwood & Williams used random
      forests). Fast, but a fully grown tree keeps splitting on any dimension to fit the factors the codes do
      not determine, so dimensions that carry nothing take importance and the score reads lower: 0.03 against
      boosting's 0.12 on the same codes of a beta-VAE trained briefly on `shapes`.
    The factors' ensembles are fitted on `num_workers` threads (NumPy and scikit-learn work without the GIL; default
    one more than the usable cores, since the factors' costs are uneven, 3 to 40 classes on `shapes`); each has its
    seed drawn from `rng` in factor order, so the result does not depend on the number of workers.
    """
    if model not in DCI_MODELS:
        raise ValueError(f"DCI model must be one of {DCI_MODELS}, got {model!r}")
    codes, factors = _check_pairs(codes, factors)
    importance = np.zeros((codes.shape[1], factors.shape[1]))  # (D, K)
    num_classes = [len(np.unique(target)) for target in factors.T]  # (K,)
    varying = [k for k in range(factors.shape[1]) if num_classes[k] > 1]  # constant factors: nothing to predict
    seeds = {k: int(rng.integers(2**31)) for k in varying}
    order = sorted(varying, key=lambda k: -num_classes[k])  # the costliest first: a boosted stage fits a tree per class
    workers = max(1, min(num_workers or usable_cores() + 1, len(order)))
    with ThreadPoolExecutor(workers) as pool:
        fitted = pool.map(lambda k: _fit_importance(codes, factors[:, k], model, num_trees, seeds[k]), order)
        for k, column in zip(order, fitted, strict=True):
            importance[:, k] = column
    return importance


def dci_disentanglement(
    codes: np.ndarray,
    factors: np.ndarray,
    rng: np.random.Generator,
    model: str = "boosting",
    num_trees: int | None = None,
) -> float:
    """DCI disentanglement, Eastwood & Williams 2018 (A framework for the quantitative evaluation of ...).

    codes: (N, D); factors: (N, K), K >= 2. The score of `dci_importance(codes, factors, rng, model, num_trees)`
    by `disentanglement_of_importance`.
    """
    return disentanglement_of_importance(dci_importance(codes, factors, rng, model, num_trees))


def disentanglement_of_importance(importance: np.ndarray) -> float:
    """DCI disentanglement of an importance matrix (D, K), K >= 2: each dimension scores 1 - H_K(P_d), the entropy
    (base K) of its importance spread over factors; the scores are averaged weighted by each dimension's share of
    the total importance. 0 when no dimension has any importance."""
    num_factors = importance.shape[1]
    if num_factors < 2:
        raise ValueError("DCI disentanglement needs at least 2 factors")
    total = importance.sum()
    if total <= 0:
        return 0.0
    per_code = importance.sum(axis=1)  # (D,)
    p = importance / np.where(per_code > 0, per_code, 1.0)[:, None]  # (D, K), rows sum to 1 (or 0)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    disentanglement = 1.0 + plogp.sum(axis=1) / np.log(num_factors)  # (D,) 1 - H_K(P_d)
    return float(np.clip((per_code / total) @ disentanglement, 0.0, 1.0))


def _encode(encode: Encoder, factors: np.ndarray) -> np.ndarray:
    codes = np.asarray(encode(factors), dtype=np.float64)
    if codes.ndim != 2 or len(codes) != len(factors):
        raise ValueError(f"encode must return codes (M, D) for factors (M, K), got {codes.shape} for {factors.shape}")
    return codes


def _points_per_call(rows_per_point: int) -> int:
    return max(1, _MAX_ROWS // rows_per_point)


def _beta_vae_points(
    encode: Encoder, sizes: np.ndarray, rng: np.random.Generator, batch_size: int, num_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Training points of the beta-VAE metric: mean |z1 - z2| over pairs sharing factor y, and y."""
    num_factors = len(sizes)
    fixed = rng.integers(0, num_factors, size=num_points)  # (P,) the factor each pair of a point shares
    chunk = _points_per_call(2 * batch_size)
    features = []
    for start in range(0, num_points, chunk):
        k = fixed[start : start + chunk]
        v1 = rng.integers(0, sizes, size=(len(k), batch_size, num_factors))  # (p, B, K)
        v2 = rng.integers(0, sizes, size=(len(k), batch_size, num_factors))
        v2 = np.where((np.arange(num_factors) == k[:, None])[:, None, :], v1, v2)  # pair i shares factor k_i
        z = _encode(encode, np.concatenate([v1, v2]).reshape(-1, num_factors))  # (2 p B, D)
        z1, z2 = z.reshape(2, len(k), batch_size, -1)  # (p, B, D) each
        features.append(np.abs(z1 - z2).mean(axis=1))  # (p, D)
    return np.concatenate(features), fixed


def beta_vae_score(
    encode: Encoder,
    factor_sizes: Sequence[int],
    rng: np.random.Generator,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
) -> float:
    """Beta-VAE metric, Higgins et al. 2017 (beta-VAE: learning basic visual concepts ...).

    Each point averages |z1 - z2| over `batch_size` pairs of factor combinations that share one factor,
    drawn at random; a logistic regression learns to name that factor from `num_train` points. Returns
    its accuracy on `num_eval` new points (1 / K is chance).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    sizes = np.asarray(factor_sizes, dtype=np.int64)
    x_train, y_train = _beta_vae_points(encode, sizes, rng, batch_size, num_train)  # (num_train, D), (num_train,)
    x_eval, y_eval = _beta_vae_points(encode, sizes, rng, batch_size, num_eval)
    if len(np.unique(y_train)) < 2:
        raise ValueError(f"num_train={num_train} points name a single factor; use more points")
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return float(classifier.fit(x_train, y_train).score(x_eval, y_eval))


def _factorvae_votes(
    encode: Encoder,
    sizes: np.ndarray,
    rng: np.random.Generator,
    scale: np.ndarray,
    active: np.ndarray,
    batch_size: int,
    num_votes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Votes of the FactorVAE metric: the least-varying normalised active dimension of a batch, and its fixed factor."""
    num_factors = len(sizes)
    fixed = rng.integers(0, num_factors, size=num_votes)  # (P,) the factor each batch holds fixed
    chunk = _points_per_call(batch_size)
    dims = []
    for start in range(0, num_votes, chunk):
        k = fixed[start : start + chunk]
        value = rng.integers(0, sizes[k])  # (p,) the value it is held at
        v = rng.integers(0, sizes, size=(len(k), batch_size, num_factors))  # (p, B, K)
        v = np.where((np.arange(num_factors) == k[:, None])[:, None, :], value[:, None, None], v)
        z = _encode(encode, v.reshape(-1, num_factors))[:, active] / scale[active]  # (p B, A)
        variance = z.reshape(len(k), batch_size, -1).var(axis=1, ddof=1)  # (p, A)
        dims.append(np.flatnonzero(active)[variance.argmin(axis=1)])  # (p,)
    return np.concatenate(dims), fixed


def factorvae_score(
    encode: Encoder,
    factor_sizes: Sequence[int],
    rng: np.random.Generator,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
) -> float:
    """FactorVAE metric, Kim & Mnih 2018 (Disentangling by factorising).

    Codes are divided by their standard deviation over `num_variance_estimate` random factor combinations,
    and dimensions whose variance there is below `prune_threshold` (collapsed to the prior) are dropped.
    Each vote holds one random factor fixed over `batch_size` combinations and takes the dimension of least
    variance; a majority-vote classifier maps dimensions to factors from `num_train` votes. Returns its
    accuracy on `num_eval` new votes (about 1 / K is chance), or 0 when no dimension is active.
    """
    if batch_size < 2:
        raise ValueError("batch_size must be at least 2 to measure a variance")
    sizes = np.asarray(factor_sizes, dtype=np.int64)
    codes = _encode(encode, rng.integers(0, sizes, size=(num_variance_estimate, len(sizes))))  # (M, D)
    variance = codes.var(axis=0, ddof=1)  # (D,)
    active = variance > prune_threshold
    if not active.any():
        return 0.0
    scale = np.sqrt(variance)
    args = (encode, sizes, rng, scale, active, batch_size)
    train_dims, train_factors = _factorvae_votes(*args, num_train)  # (num_train,) each
    eval_dims, eval_factors = _factorvae_votes(*args, num_eval)
    votes = np.zeros((len(variance), len(sizes)), dtype=np.int64)  # (D, K)
    np.add.at(votes, (train_dims, train_factors), 1)
    predicted = votes.argmax(axis=1)  # (D,) the factor each dimension names
    return float(np.mean(predicted[eval_dims] == eval_factors))
