"""Sampling stage: which conditions a model is asked for, the guidance sweep, lesion inpainting."""
