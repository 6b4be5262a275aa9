"""``glassnet.backends``: the switches PyTorch scripts set or query
(``torch.backends.mps.is_available()``, ``torch.backends.cudnn.deterministic = True``).

There is no MPS or cuDNN here; the queries answer False and the switches are plain
attributes a script may set (they change nothing: glassnet's CPU results are already
deterministic for a given seed and thread count). glassnet's own speed switches are in
:mod:`glassnet.backend` (singular).

>>> import glassnet as gn
>>> gn.backends.mps.is_available(), gn.backends.cudnn.is_available()
(False, False)
"""
from types import SimpleNamespace

mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cudnn = SimpleNamespace(is_available=lambda: False, enabled=True, deterministic=False,
                        benchmark=False, allow_tf32=False)
cuda = SimpleNamespace(is_built=lambda: False,
                       matmul=SimpleNamespace(allow_tf32=False))
