"""Phantom stage: synthetic mammography DICOMs in the real datasets' layouts, so the demo runs the
real adapters."""
