"""MAM-E: text-controlled mammogram synthesis and lesion inpainting, rebuilt from raw DICOMs."""

__version__ = "0.1.0"
