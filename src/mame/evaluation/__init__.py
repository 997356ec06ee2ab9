"""Evaluation stage: diversity (MS-SSIM), condition fidelity, real-vs-synthetic separability, memorization."""
