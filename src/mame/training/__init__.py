"""Training stage: fine-tuning a Stable Diffusion base (text-to-image or inpainting) on the manifests."""
