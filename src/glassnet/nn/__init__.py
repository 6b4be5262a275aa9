"""Layers (Modules holding parameters), losses, containers and initialisation."""
from . import init  # noqa: F401
from . import utils  # noqa: F401
from .module import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .upsample import *  # noqa: F401,F403
from .reshape import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .residual import *  # noqa: F401,F403
from . import kernels  # noqa: F401
from .kernels import FixedConv2d  # noqa: F401
from .recurrent import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403
from . import functional  # noqa: F401,E402  (torch.nn.functional's face)
