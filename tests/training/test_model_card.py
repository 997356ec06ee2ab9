"""The model card beside a trained pipeline: hub metadata, what was trained from what, every setting."""

from __future__ import annotations

from mame.training.model_card import save_model_card
from mame.training.settings import TrainSettings


def test_the_card_names_base_data_kind_and_settings(tmp_path):
    save_model_card(
        tmp_path,
        name="fusion",
        base="stable-diffusion-v1-5/stable-diffusion-v1-5",
        manifests=["results/data/fusion/healthy.csv"],
        settings=TrainSettings(steps=10, lora_rank=4, validation_prompts=["secret prompt list"]),
        inpainting=False,
        images=212,
        losses=[0.5, 0.25],
        seconds=120,
    )
    card = (tmp_path / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: diffusers\n")
    assert "# MAM-E fusion" in card and "text-to-image" in card and "LoRA rank 4 merged" in card
    assert "- base: `stable-diffusion-v1-5/stable-diffusion-v1-5`" in card
    assert "training images: 212" in card and "final loss 0.2500" in card and "2.0 min" in card
    assert "| lr | 0.0001 |" in card and "validation_prompts" not in card
