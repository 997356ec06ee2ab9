"""The loss log: a resumed run continues its checkpoint's copy up to the resumed step."""

from __future__ import annotations

from mame.training.training_log import append_row, open_log


def test_a_new_run_starts_with_the_header_only(tmp_path):
    path = tmp_path / "training_log.csv"
    path.write_text("step,loss,lr,seconds\n1,0.5,1e-4,1.0\n")
    open_log(path, resumed_at=0)
    assert path.read_text() == "step,loss,lr,seconds\n"


def test_a_resumed_run_keeps_the_checkpoints_rows_up_to_its_step(tmp_path):
    saved = tmp_path / "saved.csv"
    saved.write_text("step,loss,lr,seconds\n1,0.9,1e-4,1.0\n2,0.8,1e-4,2.0\n3,0.7,1e-4,3.0\n")
    path = tmp_path / "training_log.csv"  # deleted by the workflow after the failed job
    open_log(path, resumed_at=2, saved=saved)
    append_row(path, 3, 0.123456789, 1e-4, 9.87)
    assert path.read_text().splitlines() == [
        "step,loss,lr,seconds",
        "1,0.9,1e-4,1.0",
        "2,0.8,1e-4,2.0",
        "3,0.123457,1.000e-04,9.9",
    ]
