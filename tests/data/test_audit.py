"""The pre-flight audit: header counts, the index's own reject reasons, table mismatches, lesions."""

from __future__ import annotations

from mame.cli import main
from mame.data.audit import audit_dataset, audit_markdown
from mame.data.index import IndexFilters, build_index


def _counts(audit, section):
    rows = audit[audit["section"] == section]
    return dict(zip(rows["value"], rows["files"], strict=True))


def test_audit_counts_match_the_index_it_forecasts(phantoms):
    audit = audit_dataset("omi", phantoms / "omi", IndexFilters(), workers=2)
    index, rejects = build_index("omi", "omi", phantoms / "omi", "hologic", "salt", IndexFilters())
    outcome = _counts(audit, "outcome")
    assert outcome.pop("kept") == len(index)
    assert outcome == rejects["reason"].value_counts().to_dict()
    assert _counts(audit, "table_vs_header") == {"file_missing": 1, "not_in_table": 1}
    assert _counts(audit, "presentation_intent")["FOR PROCESSING"] == 2
    assert (
        sum(_counts(audit, "manufacturer").values()) == _counts(audit, "files")["candidates"] - 1
    )  # 1 missing
    lesions = _counts(audit, "lesions")
    assert lesions.get("images with a lesion", 0) == (index["findings"] != "[]").sum()
    clients = {s.split("/")[-3].lower() for s in index["source"]}
    assert _counts(audit, "patients")["from the dataset's tables"] >= len(clients)


def test_audit_reports_header_table_mismatches_and_writes_csv_and_markdown(phantoms, tmp_path, capsys):
    assert (
        main(["audit", str(phantoms / "vindr"), "--adapter", "vindr", "--out", str(tmp_path / "vindr")]) == 0
    )
    page = (tmp_path / "vindr.md").read_text()
    assert "## transfer syntax" in page and "not_in_table" in page and "file_missing" in page
    assert str(phantoms) not in page and "PHANTOM" not in page  # counts only, no paths or names
    assert (tmp_path / "vindr.csv").read_text().startswith("section,value,files")
    assert audit_markdown(audit_dataset("vindr", phantoms / "vindr"), "x").count("## ") >= 8
