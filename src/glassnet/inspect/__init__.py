"""Looking inside training: traces, gradient flow, activation statistics, pictures.

Tables print as plain text; pictures need matplotlib (``pip install glassnet[plot]``),
imported only when a picture is drawn.
"""
from .timesteps import *  # noqa: F401,F403  (gradient per time step of recurrent nets)
from .trace import *  # noqa: F401,F403
from .gradcheck import *  # noqa: F401,F403
from .flow import *  # noqa: F401,F403
from .vanishing import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .pictures import *  # noqa: F401,F403
from .curves import *  # noqa: F401,F403
from .returns import *  # noqa: F401,F403  (episode returns of glassnet.rl runs)
from .attention_map import *  # noqa: F401,F403  (attention heat maps of seq2seq models)
from .report import *  # noqa: F401,F403
from .summary import *  # noqa: F401,F403  (summary(model, input_shape): the layer table)
from .attribution import *  # noqa: F401,F403  (saliency, integrated gradients, Grad-CAM, ...)
from .dimensionality import *  # noqa: F401,F403  (distance concentration)
