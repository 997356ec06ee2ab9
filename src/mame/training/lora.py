"""LoRA: low-rank adapters on the attention projections while the base weights stay frozen, merged back
into plain weights at the end so diffusers and transformers load the result without peft."""

from __future__ import annotations

import torch

UNET_TARGETS = ["to_k", "to_q", "to_v", "to_out.0"]
TEXT_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj"]


def inject_lora(unet, text_encoder, rank: int, train_text_encoder: bool) -> None:
    """Adapters of rank `rank` (alpha = rank, gaussian init) on the UNet's and, if trained, the text
    encoder's attention projections."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=UNET_TARGETS)
    inject_adapter_in_model(config, unet)
    if train_text_encoder:
        text_config = LoraConfig(
            r=rank, lora_alpha=rank, init_lora_weights="gaussian", target_modules=TEXT_TARGETS
        )
        inject_adapter_in_model(text_config, text_encoder)


def merge_lora(model):
    """Fold LoRA adapters into the base weights so plain diffusers/transformers load the result."""
    from peft.tuners.lora import LoraLayer

    with torch.no_grad():
        for name, module in list(model.named_modules()):
            if isinstance(module, LoraLayer):
                module.merge()
                parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
                setattr(parent, name.rsplit(".", 1)[-1], module.get_base_layer())
    for attribute in ("peft_config", "_hf_peft_config_loaded"):
        if hasattr(model, attribute):
            try:
                delattr(model, attribute)
            except AttributeError:
                setattr(model, attribute, False)
    return model
