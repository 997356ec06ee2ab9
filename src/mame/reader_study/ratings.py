"""Reader ratings: the 5-point scale, reading rating files, and joining them to the kit's key.

Rating files come from the kit's page (long CSV: reader, case_id, rating, label) or from a web
form / spreadsheet (text answers; long, or wide with one row per reader and one column per case).
Ratings are joined to the key by case id, never by position: an unknown case, a case rated twice
or an answer off the scale stops the analysis with the offending values; a case a reader skipped
is listed as a warning.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

RATING_LABELS = (
    "Definitely real",
    "Probably real",
    "Unsure",
    "Probably synthetic",
    "Definitely synthetic",
)
SYNONYMS = {"not sure": 3, "uncertain": 3, "neither": 3, "don't know": 3}
CASE_COLUMNS = ("case_id", "case", "caseid", "image", "question")
RATING_COLUMNS = ("rating", "label", "answer", "score", "response")
READER_COLUMNS = ("reader", "name", "reader_name", "rater")
PROBABILITY_COLUMNS = ("probability", "p_synthetic")
CASE_PATTERN = re.compile(r"^case_(\d+)$")  # a header "case-001" after normalising


class RatingsError(ValueError):
    """A rating file that cannot be joined to the key without guessing."""


def _listed(items: list[str], separator: str = ", ", limit: int = 8) -> str:
    return separator.join(items[:limit]) + (" ..." if len(items) > limit else "")


def rating_value(answer: object) -> int | None:
    """A 5-point answer as 1 (definitely real) ... 5 (definitely synthetic); None when blank.

    Accepts the scale's labels (any case, extra spaces) and the integers 1-5.
    """
    if answer is None or (isinstance(answer, float) and pd.isna(answer)):
        return None
    text = " ".join(str(answer).strip().split()).lower()
    if not text:
        return None
    for value, label in enumerate(RATING_LABELS, start=1):
        if text == label.lower():
            return value
    if text in SYNONYMS:
        return SYNONYMS[text]
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and number.is_integer() and 1 <= number <= 5:
        return int(number)
    raise RatingsError(f"unknown answer {answer!r}; allowed: {', '.join(RATING_LABELS)} or 1-5")


def _load_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        frame = pd.read_excel(path, dtype=str)
    else:
        frame = pd.read_csv(path, dtype=str, sep=None, engine="python", keep_default_na=False)
    frame.columns = [re.sub(r"[\s-]+", "_", str(c).strip().lower()) for c in frame.columns]
    return frame


def _first(columns: list[str], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in columns), None)


def read_ratings(path: str | Path, reader: str | None = None) -> pd.DataFrame:
    """Ratings in one file as rows (reader, case_id, rating 1-5, answer, probability); blank answers
    dropped. `probability`: a continuous rating beside the 5-point one (the observer's), else NaN.

    `reader` names the reader when the file has no reader column (default: the file's stem).
    """
    path = Path(path)
    if not path.exists():
        raise RatingsError(f"rating file {path} does not exist")
    raw = _load_table(path)
    columns = list(raw.columns)
    case_column, rating_column = _first(columns, CASE_COLUMNS), _first(columns, RATING_COLUMNS)
    reader_column = _first(columns, READER_COLUMNS)
    probability_column = _first(columns, PROBABILITY_COLUMNS)
    if case_column and rating_column:
        long = pd.DataFrame(
            {
                "reader": raw[reader_column] if reader_column and reader is None else (reader or path.stem),
                "case_id": raw[case_column].astype(str).str.strip(),
                "answer": raw[rating_column],
                "probability": pd.to_numeric(raw[probability_column], errors="coerce")
                if probability_column
                else float("nan"),
            }
        )
    else:
        case_columns = [c for c in raw.columns if CASE_PATTERN.match(c)]
        if not case_columns:
            raise RatingsError(
                f"{path}: no case column ({'/'.join(CASE_COLUMNS)}) with an answer column "
                f"({'/'.join(RATING_COLUMNS)}), and no columns named like case-001"
            )
        names = (
            raw[reader_column].tolist()
            if reader_column and reader is None
            else [reader or path.stem] * len(raw)
            if len(raw) == 1
            else [f"{reader or path.stem} #{i + 1}" for i in range(len(raw))]
        )
        long = (
            raw[case_columns]
            .assign(reader=names)
            .melt(id_vars="reader", var_name="case_id", value_name="answer")
        )
        long["case_id"] = long["case_id"].str.replace("case_", "case-", n=1)
        long["probability"] = float("nan")
    bad = []
    values = []
    for row, answer in enumerate(long["answer"]):
        try:
            values.append(rating_value(answer))
        except RatingsError:
            bad.append(f"{long['case_id'].iloc[row]}: {answer!r}")
            values.append(None)
    if bad:
        raise RatingsError(
            f"{path}: {len(bad)} answers off the scale ({_listed(bad, '; ')}); "
            f"allowed: {', '.join(RATING_LABELS)} or 1-5"
        )
    long["rating"] = values
    long["reader"] = long["reader"].astype(str).str.strip()
    long = long.dropna(subset=["rating"]).astype({"rating": int})
    return long[["reader", "case_id", "rating", "answer", "probability"]].reset_index(drop=True)


def join_to_key(ratings: pd.DataFrame, key: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Ratings with each case's truth (positive = synthetic), and warnings for skipped cases.

    Raises RatingsError for case ids the key does not know and for a case rated twice by a reader.
    """
    known = set(key["case_id"])
    unknown = sorted(set(ratings["case_id"]) - known)
    if unknown:
        raise RatingsError(
            f"{len(unknown)} case ids are not in the kit's key ({_listed(unknown)}): "
            "a rating file from another kit?"
        )
    twice = ratings[ratings.duplicated(["reader", "case_id"], keep=False)]
    if not twice.empty:
        pairs = sorted({f"{r} / {c}" for r, c in zip(twice["reader"], twice["case_id"], strict=True)})
        raise RatingsError(f"cases rated more than once: {_listed(pairs)}")
    warnings = []
    for reader, group in ratings.groupby("reader", sort=True):
        missing = sorted(known - set(group["case_id"]))
        if missing:
            warnings.append(
                f"{reader} did not rate {len(missing)} of {len(known)} cases ({_listed(missing, limit=6)}); "
                "they are left out of this reader's ROC"
            )
    joined = ratings.merge(key[["case_id", "truth"]], on="case_id", how="left", validate="many_to_one")
    joined["synthetic"] = (joined["truth"] == "synthetic").astype(int)
    return joined, warnings
