"""Gradient clipping lives in :mod:`glassnet.nn.utils` (as ``torch.nn.utils``); these names
stay here so ``glassnet.optim.clip_grad_norm_`` keeps working."""
from __future__ import annotations

from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, grad_norm  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norm"]
