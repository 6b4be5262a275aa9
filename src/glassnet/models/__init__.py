"""Ready architectures built from ``glassnet.nn``.

>>> from glassnet import models
>>> mlp = models.MLP([64, 128, 10], activation="relu", output="multiclass")
>>> X, y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32), [0, 0, 0, 1]
>>> models.Perceptron(2).fit(X, y).converged_         # AND is linearly separable
True
"""
from __future__ import annotations

from .perceptron import Perceptron
from .mlp import MLP
from .cnn import LeNet, SmallVGG
from .charlm import CharLM
from .char_transformer import CharTransformer
from .sequence import SequenceClassifier
from .autoencoder import Autoencoder, DenoisingAutoencoder
from .stacked_autoencoder import StackedAutoencoder
from .conv_autoencoder import ConvAutoencoder
from .anomaly import AnomalyDetector
from .pretrain import greedy_pretrain
from .fewshot import PrototypicalNetwork
from .transfer import freeze, replace_head, set_submodule, trainable_parameters
from .seq2seq import BahdanauAttention, LuongAttention, RNNSeq2Seq, TransformerSeq2Seq
from .vae import VAE, ConvVAE
from .rbm import BernoulliRBM, DeepBeliefNet
from .gan import GAN, GANTrainer, GANSamples, DCGANGenerator, DCGANDiscriminator, frechet_distance

__all__ = ["Perceptron", "MLP", "LeNet", "SmallVGG", "CharLM", "CharTransformer", "SequenceClassifier",
           "Autoencoder", "DenoisingAutoencoder", "StackedAutoencoder", "ConvAutoencoder",
           "AnomalyDetector", "greedy_pretrain", "PrototypicalNetwork", "freeze",
           "replace_head", "set_submodule", "trainable_parameters", "BahdanauAttention",
           "LuongAttention", "RNNSeq2Seq", "TransformerSeq2Seq", "VAE", "ConvVAE", "BernoulliRBM",
           "DeepBeliefNet", "GAN", "GANTrainer", "GANSamples", "DCGANGenerator", "DCGANDiscriminator",
           "frechet_distance"]
