"""Tables as data: CSV/TSV, Parquet and (N, D) arrays read with pandas/pyarrow, column types inferred, encoded for
the model and decoded back to the original units, dtypes and category names.

    real         floats (whole-valued floats too), or integers with many values, some negative: standardized
                 with the training split's mean and standard deviation
    count        non-negative integer columns (an integer dtype) with more than MAX_CATEGORIES values: kept as
                 they are (the training mean is recorded: the decoder's rates start there)
    binary       exactly two values (0/1, True/False, "yes"/"no"): the index of the value, 0 or 1
    categorical  strings, or integers with at most MAX_CATEGORIES values: the index of the category

A column unique per row that is not a float (an ID) and a constant column are dropped with a warning; `data.columns`
overrides a type, `data.drop` leaves columns out, `data.label` names the class column (kept out of x). Everything
that was decided is recorded in the run's DataSpec and applied to every later file, which is refused, naming the
column and the row, when a column is missing, a category unseen or a value of the wrong type.

Missing cells (NaN, an empty cell, pandas' NA texts, or a text of `data.missing_values`) are refused, naming them,
unless `data.missing=model`: then they are NaN in x whatever the column's type (the MIWAE likelihood counts the
observed cells, vaekit.nn.columns), the training statistics come from the observed cells, and a column with no
observed cell is refused. An integer column with gaps (which pandas reads as floats) is read as integers.
"""

from __future__ import annotations

import difflib
import math
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from vaekit.errors import DataError
from vaekit.spec import COLUMN_TYPES, Column, DataSpec

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
TEXT = (".csv", ".tsv")  # files whose rows are lines: an error names the line too
MAX_CATEGORIES = 10  # integer columns with at most this many values are categorical, unless data.columns says
MAX_MISSING_NAMED = 5  # missing cells named in the error
MISSING_MODES = ("refuse", "model")  # data.missing


@dataclass(frozen=True, eq=False)
class TableData:
    """A train/test pair of encoded rows (N, D) float32 (x as the model sees it), class labels when a label column is
    set, and the spec that says how to read and write them."""

    name: str
    train: torch.Tensor  # (N, D) float32
    test: torch.Tensor  # (M, D) float32
    spec: DataSpec
    train_labels: torch.Tensor | None = None  # (N,) int64
    test_labels: torch.Tensor | None = None
    read: str = ""  # where the rows came from
    split: str = ""  # how the test split was made
    warnings: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return self.spec.event_shape

    def pixels(self, split: str) -> torch.Tensor:
        """The split as the model sees it (the name shared with images)."""
        return self.train if split == "train" else self.test


@dataclass(frozen=True)
class TableSource:
    """A bundled table: scikit-learn ships it, so it needs no download."""

    name: str
    description: str
    loader: str  # the scikit-learn function
    target: str | None  # the name given to scikit-learn's target column; None: left out (a regression target)
    target_names: bool = True  # the target's class names as categories


TABLE_SOURCES = {
    s.name: s
    for s in (
        TableSource(
            "breast_cancer",
            "scikit-learn's Wisconsin breast cancer table: 569 rows, 30 real columns and the class 'target' "
            "(malignant/benign); bundled, hold-out test",
            "load_breast_cancer",
            "target",
        ),
        TableSource(
            "wine",
            "scikit-learn's wine table: 178 rows, 13 real columns and the class 'target' (3 cultivars); bundled",
            "load_wine",
            "target",
        ),
        TableSource(
            "iris",
            "scikit-learn's iris table: 150 rows, 4 real columns and the class 'target' (3 species); bundled",
            "load_iris",
            "target",
        ),
        TableSource(
            "diabetes",
            "scikit-learn's diabetes table: 442 rows, 10 columns as scikit-learn scales them (sex binary) and the "
            "real 'progression' one year later; bundled",
            "load_diabetes",
            "progression",
            target_names=False,
        ),
    )
}


# ---------------------------------------------------------------------------------------------------------------
# Reading


def is_table_source(source: str, kind: str = "auto") -> bool:
    """Whether `source` is read as a table: data.kind=table, a bundled table, a table file, or a 2-D array file."""
    if kind != "auto":
        return kind == "table"
    if source in TABLE_SOURCES:
        return True
    path = Path(source).expanduser()
    if path.suffix.lower() in TABLE_SUFFIXES:
        return True
    return path.suffix.lower() in (".npy", ".npz") and path.is_file() and _array_ndim(path) == 2


def _header_ndim(f) -> int:
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return len(read(f)[0])


def _array_ndim(path: Path) -> int | None:
    """The number of dimensions of a .npy array, or of a .npz's train array (else its first), from the headers alone
    (a header may claim more than memory holds)."""
    try:
        if path.suffix.lower() == ".npy":
            with path.open("rb") as f:
                return _header_ndim(f)
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".npy")]
            name = next((f"{k}.npy" for k in ("train", "x_train") if f"{k}.npy" in names), names[0])
            with archive.open(name) as f:
                return _header_ndim(f)
    except (OSError, ValueError, EOFError, IndexError, zipfile.BadZipFile):
        return None  # not readable as an array: the image reader says why


def _table_suffix(path: Path) -> str:
    """The file's suffix, lower case; a gzip-compressed CSV/TSV's the one before .gz (pandas decompresses by name)."""
    suffix = path.suffix.lower()
    if suffix == ".gz" and Path(path.stem).suffix.lower() in (".csv", ".tsv"):
        return Path(path.stem).suffix.lower()
    return suffix


def _csv_options(suffix: str, missing_values: tuple[str, ...] | list[str]) -> dict:
    sep = "\t" if suffix == ".tsv" else ","
    return {"sep": sep, "skipinitialspace": True, "na_values": list(missing_values) or None}


def read_frame(path: Path, missing_values: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """A table file as a DataFrame: CSV/TSV (header row, gzip-compressed too: .csv.gz), Parquet, or a 2-D .npy array
    (columns x0, x1, ...).

    Cells whose text is one of `missing_values` are missing (NaN), as are empty cells and pandas' NA texts; an
    integer column with missing cells keeps an integer dtype (pandas' nullable Int64) instead of becoming floats.
    """
    suffix = _table_suffix(path)
    try:
        if suffix in (".csv", ".tsv"):
            options = _csv_options(suffix, missing_values)
            frame = pd.read_csv(path, **options)
            return _integers_with_gaps(frame, lambda: pd.read_csv(path, dtype_backend="numpy_nullable", **options))
        if suffix in (".parquet", ".pq"):
            frame = _mark_missing(pd.read_parquet(path), missing_values)
            return _integers_with_gaps(frame, lambda: pd.read_parquet(path, dtype_backend="numpy_nullable"))
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            frame = pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])
            return _mark_missing(frame, missing_values)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path} cannot be read as a table ({first}). Fix: check that it is a {suffix} file.") from None
    except ImportError as exc:
        raise DataError(f"reading {path} needs pyarrow ({exc}). Fix: pip install pyarrow.") from None
    raise DataError(f"{path}: vaekit reads tables from {', '.join(TABLE_SUFFIXES)} and 2-D .npy/.npz files.")


def read_cells_text(path: Path) -> pd.DataFrame:
    """A CSV/TSV file's cells as the text the file holds (every column str, an empty cell ""), for writing the file
    back with only its missing cells changed."""
    options = _csv_options(_table_suffix(path), ()) | {"na_values": None, "keep_default_na": False, "dtype": str}
    return pd.read_csv(path, **options)


def column_texts(path: Path, column: str | None) -> list[str]:
    """The texts of one column of a table file (missing cells as empty lines)."""
    frame = read_frame(path)
    names = [str(c) for c in frame.columns]
    if column is None:
        if len(names) != 1:
            raise DataError(
                f"{path} has {len(names)} columns {names[:10]}: name the one that holds the text with data.column=NAME."
            )
        column = names[0]
    if column not in names:
        close = difflib.get_close_matches(column, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(f"data.column names '{column}', which {path} does not have.{hint} Columns: {names[:20]}.")
    series = frame[frame.columns[names.index(column)]]
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise DataError(
            f"column '{column}' of {path} holds numbers ({series.dtype}), not text. Name the text column with "
            "data.column, or read the file as a table (data.kind=table)."
        )
    return ["" if pd.isna(v) else str(v) for v in series.tolist()]


def _mark_missing(frame: pd.DataFrame, missing_values: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Cells equal to a marker made NaN: by their text, or in a numeric column by their value (a file that is not
    text, whose numbers have no text of their own)."""
    if not missing_values:
        return frame
    numbers = set()
    for marker in missing_values:
        try:
            numbers.add(float(marker))
        except ValueError:
            pass
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            hit = column.isin(numbers)
        else:
            hit = column.notna() & column.astype(str).isin([str(m) for m in missing_values])
        if hit.any():
            frame[name] = column.mask(hit)
    return frame


def _integers_with_gaps(frame: pd.DataFrame, read_nullable) -> pd.DataFrame:
    """An integer column with missing cells, which pandas reads as floats, read as pandas' nullable Int64 (from
    `read_nullable()`, the file read with dtype_backend="numpy_nullable"), so that its type is inferred as an integer
    column's and its values are written back as integers. Other columns are left as they are."""
    gaps = [c for c in frame.columns if frame[c].dtype.kind == "f" and frame[c].isna().any()]
    if not gaps:
        return frame
    nullable = read_nullable()
    for name in gaps:
        if pd.api.types.is_integer_dtype(nullable[name]):
            frame[name] = nullable[name]
    return frame


def _read_npz(path: Path) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    with np.load(path, allow_pickle=False) as archive:
        names = archive.files
        train = next((k for k in ("train", "x_train") if k in names), names[0] if len(names) == 1 else None)
        if train is None:
            raise DataError(f"{path} holds {names}; a table archive holds 'train' and optionally 'test', (N, D) each.")
        test = next((k for k in ("test", "x_test") if k in names), None)
        frames = [archive[k] for k in (train, test) if k is not None]
    for a in frames:
        if a.ndim != 2:
            raise DataError(f"{path}: a table array must be (N, D), got {a.shape}.")
    cols = [f"x{j}" for j in range(frames[0].shape[1])]
    return pd.DataFrame(frames[0], columns=cols), (pd.DataFrame(frames[1], columns=cols) if len(frames) > 1 else None)


def read_source(
    source: str, missing_values: tuple[str, ...] | list[str] = ()
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """(train frame, test frame or None to hold out, what was read) of a bundled table or a table file; cells whose
    text is one of `missing_values` read as missing."""
    if source in TABLE_SOURCES:
        return (*_bundled(TABLE_SOURCES[source]), f"scikit-learn's {TABLE_SOURCES[source].loader}()")
    path = Path(source).expanduser()
    if not path.is_file():
        close = difflib.get_close_matches(source, list(TABLE_SOURCES), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise DataError(
            f"'{source}' is neither a bundled table nor an existing file.{hint} Bundled tables: "
            f"{', '.join(TABLE_SOURCES)}; files: {', '.join(TABLE_SUFFIXES)}, or (N, D) .npy/.npz arrays."
        )
    if path.suffix.lower() == ".npz":
        train, test = _read_npz(path)
        test = None if test is None else _mark_missing(test, missing_values)
        return _mark_missing(train, missing_values), test, str(path)
    return read_frame(path, missing_values), None, str(path)


def _bundled(source: TableSource) -> tuple[pd.DataFrame, None]:
    import sklearn.datasets  # imported here: scikit-learn is slow to import

    bunch = getattr(sklearn.datasets, source.loader)(as_frame=True)
    frame = bunch.data.copy()
    if source.target is not None:
        target = bunch.target
        if source.target_names:
            target = pd.Series(np.asarray(bunch.target_names)[target.to_numpy()], name=source.target)
        frame[source.target] = target.to_numpy()
    return frame, None


# ---------------------------------------------------------------------------------------------------------------
# Column types


def _values_as_text(series: pd.Series) -> pd.Series:
    """A column's values as the strings categories are named by (floats by their shortest exact repr).

    Read as Python objects first: pandas 2 maps a nullable integer column's values as floats."""
    return series.astype(object).map(lambda v: repr(float(v)) if isinstance(v, float | np.floating) else str(v))


def infer_type(series: pd.Series) -> str | None:
    """The type of a column (COLUMN_TYPES), "id" for a non-float column unique per row, None for a constant one."""
    distinct = series.nunique(dropna=True)
    if distinct <= 1:
        return None
    if distinct == 2:
        return "binary"
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    integer = numeric and pd.api.types.is_integer_dtype(series)  # floats that happen to be whole stay real
    if (not numeric or integer) and distinct == series.notna().sum() > 2:
        return "id"
    if not numeric:
        return "categorical"
    if integer and distinct <= MAX_CATEGORIES:
        return "categorical"
    if integer and series.min() >= 0:
        return "count"
    return "real"


def _row(frame: pd.DataFrame | pd.Series, position: int) -> int:
    """The 1-based row of the file behind `position` in `frame`: a split keeps the file's row numbers as its index."""
    label = frame.index[position]
    return int(label) + 1 if isinstance(label, int | np.integer) else position + 1


def _check_missing(frame: pd.DataFrame, origin: str, csv: bool, fix: str | None = None) -> None:
    """Refuse missing cells, naming the first few (column, row, line of a text file)."""
    missing = frame.isna().to_numpy()
    if not missing.any():
        return
    rows, cols = np.nonzero(missing)
    named = [
        f"column '{frame.columns[c]}' row {_row(frame, r)}"
        + (f" (line {_row(frame, r) + 1} of the file)" if csv else "")
        for r, c in list(zip(rows, cols, strict=True))[:MAX_MISSING_NAMED]
    ]
    raise DataError(
        f"{origin} has {int(missing.sum())} missing cells in {len(set(cols))} columns: {', '.join(named)}"
        f"{' ...' if len(rows) > MAX_MISSING_NAMED else ''}. Fix: "
        + (
            fix
            or "set data.missing=model to model them (the likelihood counts the observed cells; `vaekit impute` fills "
            "them in), or drop those rows (pandas: frame.dropna()), fill them, or leave the columns out with "
            "data.drop=[...]."
        )
    )


def _check_names(names: list[str], given: dict[str, str] | list[str], key: str, origin: str) -> None:
    for name in given:
        if name not in names:
            close = difflib.get_close_matches(str(name), names, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise DataError(f"{key} names column '{name}', which {origin} does not have.{hint} Columns: {names}.")


def choose_columns(
    frame: pd.DataFrame, types: dict[str, str], drop: list[str], label: str | None, origin: str
) -> tuple[dict[str, str], list[str]]:
    """{column: type} of the columns x holds (in the file's order), and warnings about columns left out."""
    names = [str(c) for c in frame.columns]
    frame.columns = names
    _check_names(names, types, "data.columns", origin)
    _check_names(names, drop, "data.drop", origin)
    if label is not None:
        _check_names(names, [label], "data.label", origin)
    for name, kind in types.items():
        if kind not in COLUMN_TYPES:
            close = difflib.get_close_matches(kind, COLUMN_TYPES, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise DataError(f"data.columns.{name} is '{kind}'.{hint} Column types: {', '.join(COLUMN_TYPES)}.")
    chosen: dict[str, str] = {}
    warnings = []
    for name in names:
        if name in drop or name == label:
            continue
        if len(frame) and frame[name].isna().all():
            raise DataError(
                f"{origin}: column '{name}' has no value in any of its {len(frame)} rows. Leave it out with "
                f"data.drop=[{name}]."
            )
        kind = types.get(name) or infer_type(frame[name])
        if kind is None:
            warnings.append(f"column '{name}' holds one value in every row: left out (it carries no information).")
        elif kind == "id":
            warnings.append(
                f"column '{name}' holds a different value in every row, like an ID: left out. To model it, set "
                f"data.columns.{name}=categorical (or real/count)."
            )
        else:
            chosen[name] = kind
    if not chosen:
        raise DataError(f"{origin}: no column is left to model (columns: {names}). Check data.drop and data.label.")
    return chosen, warnings


def _categories(series: pd.Series) -> tuple[str, ...]:
    values = series.dropna().unique()
    try:
        values = sorted(values)
    except TypeError:  # mixed types: order by their text
        values = sorted(values, key=str)
    return tuple(_values_as_text(pd.Series(values, dtype=object)))


def fit_column(series: pd.Series, kind: str, origin: str) -> Column:
    """The column's spec from the training split: its categories, or the mean and standard deviation of a real one."""
    name, dtype = str(series.name), str(series.dtype)
    if kind in ("binary", "categorical"):
        categories = _categories(series)
        if kind == "binary" and len(categories) != 2:
            raise DataError(
                f"{origin}: column '{name}' is set binary but holds {len(categories)} values {list(categories)[:5]}. "
                "Set it categorical."
            )
        return Column(name, kind, categories, dtype=dtype)
    values = _numbers(series, name, origin)
    observed = values[~np.isnan(values)]  # the statistics of the observed cells (data.missing=model)
    if len(values) and not len(observed):
        raise DataError(
            f"{origin}: column '{name}' has no value in the training split. Leave it out (data.drop=[{name}]), or "
            "hold out another test split (data.split_seed)."
        )
    wrong = (values < 0) | (values != np.round(values))  # False where a cell is missing (NaN)
    if kind == "count" and np.any(wrong & ~np.isnan(values)):
        row = int(np.flatnonzero(wrong & ~np.isnan(values))[0])
        raise DataError(
            f"{origin}: column '{name}' is a count but row {_row(series, row)} holds {values[row]!r}: counts are "
            f"non-negative integers. Set data.columns.{name}=real."
        )
    if kind == "real":
        std = float(observed.std())
        if not std > 0:
            raise DataError(f"{origin}: column '{name}' is constant in the training split; leave it out (data.drop).")
        return Column(name, kind, mean=float(observed.mean()), std=std, dtype=dtype)
    return Column(name, kind, mean=float(observed.mean()) if len(observed) else 0.0, dtype=dtype)  # count: its mean


def _numbers(series: pd.Series, name: str, origin: str) -> np.ndarray:
    """The column's numbers (N,) float64, NaN where a cell is missing; a value that is no finite number is refused."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values) & ~series.isna().to_numpy())
    if bad.size:
        row = int(bad[0])
        raise DataError(
            f"{origin}: column '{name}' holds numbers, but row {_row(series, row)} holds {series.iloc[row]!r}. Fix the "
            "value, or read the column as categorical (data.columns.NAME=categorical) when training."
        )
    return values


def fit_spec(frame: pd.DataFrame, types: dict[str, str], label: str | None, origin: str, preprocessing: dict):
    """The table's DataSpec, from the training split."""
    columns = tuple(fit_column(frame[name], kind, origin) for name, kind in types.items())
    label_column = fit_column(frame[label], "categorical", origin) if label is not None else None
    return DataSpec.table(columns, label_column, preprocessing)


# ---------------------------------------------------------------------------------------------------------------
# Encoding and decoding


def _indices(series: pd.Series, column: Column, origin: str) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(column.categories)}
    text = _values_as_text(series)
    codes = text.map(lookup)
    if codes.isna().any() and series.dtype.kind == "f":  # integer categories in a column read as floats (with gaps)
        whole = series.map(lambda v: str(int(v)) if math.isfinite(v) and v == int(v) else None)
        codes = codes.fillna(whole.map(lookup))
    codes = codes.mask(series.isna())  # a missing cell's code is NaN
    unseen = np.flatnonzero(codes.isna().to_numpy() & series.notna().to_numpy())
    if unseen.size:
        row = int(unseen[0])
        raise DataError(
            f"{origin}: column '{column.name}' row {_row(series, row)} holds {series.iloc[row]!r}, a category the run "
            f"never saw (it knows {list(column.categories)[:20]}). Fix the value, or train on data that include it."
        )
    return codes.to_numpy(dtype=np.float64)


def encode_column(series: pd.Series, column: Column, origin: str) -> np.ndarray:
    """Values -> the numbers the model sees, (N,) float64; NaN where a cell is missing."""
    if column.type in ("binary", "categorical"):
        return _indices(series, column, origin)
    values = _numbers(series, column.name, origin)
    return (values - column.mean) / column.std if column.type == "real" else values


def missing_mode(spec: DataSpec) -> str:
    """How the run reads missing cells (data.missing, recorded in the spec): "refuse" or "model"."""
    return spec.preprocessing.get("missing", "refuse")


def encode_frame(
    frame: pd.DataFrame, spec: DataSpec, origin: str, missing: str | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Rows of a table -> x (N, D) float32 and labels (N,) int64 (None without a label column), as `spec` says.

    A missing column, an unseen category and a value of the wrong type are refused, naming them; so is a missing
    cell, unless `missing` (default: the spec's data.missing) is "model": then it is NaN in x. A missing label is
    always refused.
    """
    names = [str(c) for c in frame.columns]
    frame.columns = names
    needed = [c.name for c in spec.columns] + ([spec.label.name] if spec.label else [])
    absent = [n for n in needed if n not in names]
    if absent:
        raise DataError(
            f"{origin} lacks the column{'s' * (len(absent) > 1)} {absent} that the run was trained on (it has "
            f"{names}). Give a table with the run's columns: {needed}."
        )
    csv = origin.lower().endswith(TEXT)
    if (missing or missing_mode(spec)) != "model":
        _check_missing(frame[needed], origin, csv)
    elif spec.label is not None:
        _check_missing(frame[[spec.label.name]], origin, csv, fix="give every row its label (data.label).")
    x = np.stack([encode_column(frame[c.name], c, origin) for c in spec.columns], axis=1) if len(frame) else None
    x = torch.from_numpy(x.astype(np.float32)) if x is not None else torch.zeros(0, len(spec.columns))
    y = None
    if spec.label is not None:
        y = torch.from_numpy(_indices(frame[spec.label.name], spec.label, origin).astype(np.int64))
    return x, y


def _typed(values: np.ndarray | list, dtype: str) -> pd.Series:
    try:
        return pd.Series(values).astype(dtype)
    except (TypeError, ValueError):
        return pd.Series(values)


def decode_column(values: np.ndarray, column: Column) -> pd.Series:
    """The model's numbers (N,) for one column -> values in the original units and dtype.

    binary: a number >= 0.5 (a probability, or the index) is the second value; categorical: the rounded index;
    count: the rounded value; real: mean + std * x. A NaN (a missing cell) stays missing.
    """
    missing = np.isnan(values)
    if missing.any():
        return _decode_column(np.where(missing, 0.0, values), column).mask(missing)
    return _decode_column(values, column)


def _decode_column(values: np.ndarray, column: Column) -> pd.Series:
    if column.type in ("binary", "categorical"):
        index = (values >= 0.5).astype(int) if column.type == "binary" else np.rint(values).astype(int)
        index = np.clip(index, 0, len(column.categories) - 1)
        text = np.asarray(column.categories, dtype=object)[index]
        if column.dtype.lower().startswith(("int", "uint", "float")):
            return _typed(text.astype(np.float64), column.dtype)
        if column.dtype == "bool":
            return pd.Series(text == "True")
        return _typed(text, column.dtype)  # strings: object, or pandas' str / string / category
    if column.type == "count":
        return _typed(np.rint(np.maximum(values, 0)), column.dtype if "int" in column.dtype.lower() else "int64")
    return _typed(column.mean + column.std * values, column.dtype if "float" in column.dtype.lower() else "float64")


def decode_rows(x: torch.Tensor, spec: DataSpec) -> pd.DataFrame:
    """x (N, D) in the model's numbers -> a DataFrame with the original column names, units, dtypes, categories."""
    values = x.detach().double().cpu().numpy()  # (N, D)
    return pd.DataFrame({c.name: decode_column(values[:, j], c) for j, c in enumerate(spec.columns)})


def fill_missing(frame: pd.DataFrame, x: torch.Tensor, spec: DataSpec) -> pd.DataFrame:
    """`frame` with the missing cells of the spec's columns set to the decoded values of rows x (N, D) (model
    numbers, as many rows as `frame`); every other cell, and every other column, as it was. A column of the spec
    ends in the spec's dtype where its values allow (an integer column read with gaps as floats is integer again)."""
    out = frame.copy()
    values = x.detach().double().cpu().numpy()  # (N, D)
    for j, column in enumerate(spec.columns):
        gaps = out[column.name].isna().to_numpy()
        if not gaps.any():
            continue
        decoded = decode_column(values[:, j], column)
        decoded.index = out.index
        out[column.name] = _typed(out[column.name].where(~gaps, decoded), column.dtype)
    return out


def cell_text(value) -> str:
    """A value as write_table writes it: floats to 7 significant digits (the model computes in float32)."""
    if isinstance(value, float | np.floating):
        return f"{value:.7g}"
    return str(value)


def fill_text(cells: pd.DataFrame, filled: pd.DataFrame, gaps: pd.DataFrame) -> pd.DataFrame:
    """A text file's cells (read_cells_text) with the cells that `gaps` marks (a boolean frame of some of its
    columns) set to the text of `filled`'s values there; every other cell keeps its text, byte for byte."""
    out = cells.copy()
    for name in gaps.columns:
        rows = gaps[name].to_numpy()
        if rows.any():
            out.loc[rows, name] = [cell_text(v) for v in filled[name].to_numpy()[rows]]
    return out


def write_table(frame: pd.DataFrame, out: Path) -> None:
    """A DataFrame to CSV, TSV or Parquet (by suffix), atomically."""
    from vaekit.atomic import atomic_write

    suffix = out.suffix.lower()
    if suffix in (".parquet", ".pq"):
        atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        # the model computes in float32: 7 significant digits are what the numbers hold
        sep = "\t" if suffix == ".tsv" else ","
        atomic_write(out, lambda tmp: frame.to_csv(tmp, sep=sep, index=False, float_format="%.7g"))


# ---------------------------------------------------------------------------------------------------------------
# Loading


@dataclass
class TableOptions:
    """What data.* says about a table."""

    types: dict[str, str] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    label: str | None = None
    test_fraction: float = 0.1
    split_seed: int = 0
    missing: str = "refuse"  # MISSING_MODES
    missing_values: list[str] = field(default_factory=list)


def hold_out(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, test rows) of a seeded random hold-out of round(fraction * n) rows, each sorted."""
    order = np.random.default_rng(seed).permutation(n)
    num_test = min(n - 1, max(1, round(fraction * n))) if n > 1 else 0
    return np.sort(order[num_test:]), np.sort(order[:num_test])


def load_table(source: str, options: TableOptions, spec: DataSpec | None = None) -> TableData:
    """The table at `source` (a bundled name or a file), split and encoded.

    spec: a run's recorded spec: the columns are read as it says (a new file read like the training data); None:
    types are inferred (and overridden by `options`) and standardization is fitted on the training split.
    """
    if spec is not None:  # the run's record of how it read missing cells wins
        options = replace(
            options,
            missing=missing_mode(spec),
            missing_values=list(spec.preprocessing.get("missing_values", options.missing_values)),
        )
    train_frame, test_frame, read = read_source(source, options.missing_values)
    origin = read if source not in TABLE_SOURCES else f"table '{source}'"
    if test_frame is None:  # the splits keep the file's row numbers as their index, for the errors that name rows
        train_rows, test_rows = hold_out(len(train_frame), options.test_fraction, options.split_seed)
        test_frame = train_frame.iloc[test_rows]
        train_frame = train_frame.iloc[train_rows]
        split = (
            f"test held out at random: {len(test_rows)} of {len(train_rows) + len(test_rows)} rows (seed "
            f"{options.split_seed})"
        )
    else:
        split = "the file's own test split"
    warnings: list[str] = []
    if spec is None:
        whole = pd.concat([train_frame, test_frame], ignore_index=True)  # types are inferred from every row
        types, warnings = choose_columns(whole, options.types, options.drop, options.label, origin)
        train_frame.columns = whole.columns
        test_frame.columns = whole.columns
        modelled = options.missing == "model"  # then only a missing label is refused
        needed = ([] if modelled else [*types]) + ([options.label] if options.label else [])
        fix = "give every row its label (data.label)." if modelled else None
        _check_missing(pd.concat([train_frame, test_frame])[needed].sort_index(), origin, origin.endswith(TEXT), fix)
        preprocessing = {"dropped": [n for n in whole.columns if n not in types and n != options.label]}
        if options.missing == "model":
            preprocessing |= {"missing": "model", "missing_values": list(options.missing_values)}
        spec = fit_spec(train_frame, types, options.label, origin, preprocessing)
    train, train_y = encode_frame(train_frame, spec, origin)
    test, test_y = encode_frame(test_frame, spec, origin)
    return TableData(source, train, test, spec, train_y, test_y, read, split, tuple(warnings))


# ---------------------------------------------------------------------------------------------------------------
# The load summary


def summary_lines(data: TableData) -> list[str]:
    """Where the rows came from and how they were split; what the columns are."""
    spec = data.spec
    counts = {t: sum(c.type == t for c in spec.columns) for t in ("real", "count", "binary", "categorical")}
    kinds = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    label = f"; label '{spec.label.name}' ({len(spec.label.categories)} classes)" if spec.label else ""
    dropped = spec.preprocessing.get("dropped") or []
    lines = [
        f"data: {data.name}: read {data.read}; {data.split}",
        f"data: {len(data.train)} train / {len(data.test)} test rows, {len(spec.columns)} columns ({kinds}){label}; "
        f"real columns standardized with the training split's mean and std"
        + (f"; left out: {', '.join(dropped)}" if dropped else ""),
    ]
    missing = torch.cat([data.train, data.test]).isnan()  # (N, D)
    if missing_mode(spec) == "model":
        rows = int(missing.any(1).sum())
        lines.append(
            f"data: missing cells modelled (data.missing=model): {int(missing.sum())} of {missing.numel()} cells, in "
            f"{rows} of {missing.shape[0]} rows; statistics from the observed cells"
        )
    for j, column in enumerate(spec.columns):
        if column.type == "real":
            what = f"real, mean {column.mean:.4g}, std {column.std:.4g}"
        elif column.type in ("binary", "categorical"):
            shown = ", ".join(column.categories[:8]) + (" ..." if len(column.categories) > 8 else "")
            what = f"{column.type} ({len(column.categories)}: {shown})"
        else:
            what = "count"
        gaps = int(missing[:, j].sum())
        if gaps:
            what += f"; {gaps} missing ({100 * gaps / missing.shape[0]:.1f} % of rows)"
        lines.append(f"data:   {column.name}: {what}")
    return lines


def table_warnings(data: TableData, batch_size: int, mlp: bool = True) -> list[str]:
    """Warnings about a table that will train badly (`mlp`: shared with images' warnings; a table's network is one)."""
    warnings = list(data.warnings)
    steps = math.ceil(len(data.train) / batch_size)
    if steps < 5:
        warnings.append(
            f"an epoch is {steps} step{'s' * (steps != 1)} ({len(data.train)} rows at batch {batch_size}): use a "
            f"smaller train.batch_size (e.g. {max(1, len(data.train) // 20)}) or more epochs."
        )
    return warnings
