"""Looking inside training: traces, gradient flow, activation statistics, pictures.

Tables print as plain text; pictures need matplotlib (``pip install glassnet[plot]``),
imported only when a picture is drawn.
"""
from .trace import *  # noqa: F401,F403
from .gradcheck import *  # noqa: F401,F403
from .flow import *  # noqa: F401,F403
from .vanishing import *  # noqa: F401,F403

try:  # written by the recurrent-networks work; absent in some checkouts
    from .timesteps import *  # noqa: F401,F403
except ImportError:  # pragma: no cover
    pass
