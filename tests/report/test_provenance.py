"""Provenance: run times per stage from benchmark files, the config shown without its secret."""

from __future__ import annotations

import pandas as pd

from mame.report.provenance import provenance, run_times


def _benchmark(path, seconds: float, rss) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"s": [seconds], "h:m:s": ["0:00:01"], "max_rss": [rss]}).to_csv(path, sep="\t", index=False)


def test_run_times_sum_jobs_per_stage_and_keep_the_peak_memory(tmp_path):
    _benchmark(tmp_path / "models" / "a.tsv", 10.0, 500.0)
    _benchmark(tmp_path / "models" / "b.tsv", 30.0, 800.0)
    _benchmark(tmp_path / "data" / "x.tsv", 1.5, "NA")
    _benchmark(tmp_path / "report.tsv", 2.0, 100.0)
    table = run_times(tmp_path).set_index("stage")
    assert table.loc["models"].tolist() == [2, 40.0, 30.0, 800.0]
    assert table.loc["data", "jobs"] == 1 and pd.isna(table.loc["data", "peak memory (MB)"])
    assert table.loc["report", "total seconds"] == 2.0


def test_no_benchmarks_give_an_empty_table_with_its_columns(tmp_path):
    assert run_times(tmp_path).empty and "peak memory (MB)" in run_times(tmp_path).columns


def test_the_salt_never_reaches_the_report_and_versions_are_listed():
    config = {"privacy": {"salt": "very secret"}, "sampling": {"steps": 20}}
    info = provenance(config)
    assert "very secret" not in info["config"] and "steps: 20" in info["config"]
    assert config["privacy"]["salt"] == "very secret"  # the caller's config is left alone
    assert info["versions"]["mame"] != "not installed" and info["hardware"]
