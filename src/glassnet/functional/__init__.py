"""Pure tensor functions, one Function each, with hand-written backward.

Available as ``glassnet.functional`` (glassnet's own names, ``axis=``); PyTorch's face, with
``dim=`` and torch's argument lists, is ``glassnet.nn.functional``.
"""
from .math import *  # noqa: F401,F403
from .activations import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403
from .penalties import *  # noqa: F401,F403
from . import math, activations, losses, dropout, conv, pooling, normalization, recurrent, embedding  # noqa: F401,E501
from . import upsample, penalties  # noqa: F401
