"""MNIST (60k train incl. a 5k validation split, 10k test) with LeNet, SmallVGG or an MLP.

    python examples/cnn_mnist.py --model lenet --epochs 12
    python examples/cnn_mnist.py --model vgg --epochs 8
    python examples/cnn_mnist.py --model mlp --epochs 20 --batch-size 128 --patience 5

Protocol in _cnn_common.py; measured figures and exact commands in docs/results/cnn.md.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cnn_common import main  # noqa: E402

if __name__ == "__main__":
    main("mnist", "lenet")
