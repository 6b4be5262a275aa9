"""Pure tensor functions, one Function each, with hand-written backward.

Available as ``glassnet.functional`` (glassnet's own names, ``axis=``); PyTorch's face, with
``dim=`` and torch's argument lists, is ``glassnet.nn.functional``.
"""
# A later star import replaces some names of an earlier one on purpose (elementwise's neg,
# square and clip replace math's; activations' relu, sigmoid, tanh and sign replace
# elementwise's; shape's and indexing's reshape, cat, where... replace math's), and the
# submodules dropout and embedding replace their functions as Python binds them: mypy
# reports each replaced name whose signature differs, hence the ignores below.
from .math import *  # noqa: F401,F403
from .elementwise import *  # type: ignore[assignment]  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .activations import *  # type: ignore[assignment]  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403
from .penalties import *  # noqa: F401,F403
from .shape import *  # type: ignore[assignment]  # noqa: F401,F403
from .indexing import *  # type: ignore[assignment]  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from . import math, activations, losses, dropout, conv, pooling, normalization, recurrent, embedding  # type: ignore[assignment]  # noqa: F401,E501
from . import upsample, penalties  # noqa: F401
from . import elementwise, reduce  # noqa: F401

# the reduce helper's Tensor methods (PyTorch's reductions, math, comparisons, casts)
# replace math's older ones: installed after math has set its own
elementwise.install()
reduce.install()

# the autograd helper's in-place ops (after the reduce helper's methods) and the
# differentiable backwards used by create_graph=True
from .inplace import *  # noqa: F401,F403
from . import inplace  # noqa: F401
from . import double_backward  # noqa: F401,E402
from . import shape, indexing, attention  # noqa: F401
