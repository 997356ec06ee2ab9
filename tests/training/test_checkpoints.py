"""Checkpoint fingerprints: what may change between a run and its resume, and what may not."""

from __future__ import annotations

from mame.training.checkpoints import fingerprint
from mame.training.settings import TrainSettings


def _tag(tmp_path, manifest_text: str = "image,prompt\na.png,x\n", **settings) -> str:
    manifest = tmp_path / "m.csv"
    manifest.write_text(manifest_text)
    return fingerprint(TrainSettings(**settings), "base", [str(manifest)], inpainting=False)


def test_settings_that_leave_the_weights_alone_keep_the_fingerprint(tmp_path):
    tag = _tag(tmp_path)
    assert _tag(tmp_path, steps=5000) == tag  # a constant schedule may be extended
    assert _tag(tmp_path, checkpoint_every=7, keep_checkpoints=9, tensorboard=True) == tag
    assert _tag(tmp_path, validation_every=3, validation_prompts=["p"], validation_guidance=2.0) == tag


def test_settings_data_and_decaying_schedules_change_it(tmp_path):
    tag = _tag(tmp_path)
    assert _tag(tmp_path, lr=2e-4) != tag
    assert _tag(tmp_path, manifest_text="image,prompt\nb.png,x\n") != tag
    cosine = _tag(tmp_path, lr_schedule="cosine")
    assert _tag(tmp_path, lr_schedule="cosine", steps=5000) != cosine  # the total shapes the schedule
    assert fingerprint(TrainSettings(), "base", [str(tmp_path / "m.csv")], inpainting=True) != tag


class _Accelerator:
    is_main_process = True

    def __init__(self):
        self.loaded = None

    def load_state(self, path):
        self.loaded = path

    def wait_for_everyone(self):
        pass


def test_a_save_cut_off_before_its_stamp_is_dropped_and_the_last_whole_one_resumed(tmp_path):
    from mame.training.checkpoints import checkpoint_path, resume

    whole, cut = checkpoint_path(tmp_path, 10), checkpoint_path(tmp_path, 20)
    whole.mkdir()
    (whole / "fingerprint.txt").write_text("tag\n")
    cut.mkdir()  # killed inside save_state: no fingerprint.txt yet
    accelerator = _Accelerator()
    assert resume(accelerator, tmp_path, "tag") == 10
    assert accelerator.loaded == str(whole) and not cut.exists()
    assert resume(_Accelerator(), tmp_path, "other") == 0 and not whole.exists()  # other settings
