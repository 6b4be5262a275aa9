"""Looking inside training: traces, gradient flow, activation statistics, pictures.

Tables print as plain text; pictures need matplotlib (``pip install glassnet[plot]``),
imported only when a picture is drawn.
"""
try:  # the recurrent helpers (time-step gradients); imported first so that the
    # feed-forward vanishing_gradient_demo below is the one glassnet.inspect exports
    # (theirs stays glassnet.inspect.timesteps.vanishing_gradient_demo)
    from .timesteps import *  # noqa: F401,F403
except ImportError:  # pragma: no cover
    pass
from .trace import *  # noqa: F401,F403
from .gradcheck import *  # noqa: F401,F403
from .flow import *  # noqa: F401,F403
from .vanishing import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .pictures import *  # noqa: F401,F403
from .report import *  # noqa: F401,F403
