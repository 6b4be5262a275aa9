"""The architectures of the chart of neural networks (van Veen, Asimov Institute, 2016) that
the rest of glassnet.models does not already hold, each small enough to read in one sitting
and trained on a small real task in ``examples/chart_architectures.py``
(``docs/chart.md`` maps every cell of the chart to glassnet).

* :class:`RBFNetwork` (and :func:`kmeans`) - radial basis function network
* :class:`HopfieldNetwork` - associative memory of bipolar patterns
* :class:`BoltzmannMachine` - stochastic binary units with hidden units, exact checks
* :class:`SelfOrganizingMap` - Kohonen's batch self-organising map
* :class:`ExtremeLearningMachine` - random hidden layer, closed-form output
* :class:`EchoStateNetwork` - random reservoir, ridge readout
* :class:`MarkovChain` - first-order chain estimated from a sequence
* :class:`SparseAutoencoder`, :class:`ContractiveAutoencoder` - penalised codes
* :class:`DeconvNetwork` - from a code to an image by upsampling and convolution
* :class:`LinearSVM` - a linear layer trained on a hinge loss

The gradient-trained ones (RBF fine-tuning, the autoencoders, the deconvolutional network,
the SVM head) are nn.Modules; the others are trained by their own rules on NumPy arrays.
"""
from __future__ import annotations

from .boltzmann import BoltzmannMachine, all_states, bars_and_stripes
from .deconv import DeconvNetwork
from .elm import ExtremeLearningMachine
from .esn import EchoStateNetwork, mackey_glass, nrmse
from .hopfield import HopfieldNetwork, hebbian_error_rate, random_patterns
from .markov import MarkovChain
from .rbf import RBFNetwork, kmeans
from .regularized_autoencoders import ContractiveAutoencoder, SparseAutoencoder
from .som import SelfOrganizingMap
from .svm import LinearSVM

__all__ = ["RBFNetwork", "kmeans", "HopfieldNetwork", "random_patterns", "hebbian_error_rate",
           "BoltzmannMachine", "all_states", "bars_and_stripes", "SelfOrganizingMap",
           "ExtremeLearningMachine", "EchoStateNetwork", "mackey_glass", "nrmse",
           "MarkovChain", "SparseAutoencoder", "ContractiveAutoencoder", "DeconvNetwork",
           "LinearSVM"]
