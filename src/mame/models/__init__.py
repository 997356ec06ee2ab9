"""Models: loading and saving Stable Diffusion components, the tiny demo base, its tokenizer, and the
conditions each trained model knows."""
