"""LeNet or SmallVGG on Fashion-MNIST (60k train incl. a 5k validation split, 10k test).

    python examples/cnn_fashion_mnist.py --model vgg --epochs 15
    python examples/cnn_fashion_mnist.py --model lenet --epochs 15

Figures measured with these commands are in docs/cnn.md.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _cnn_common import main  # noqa: E402

if __name__ == "__main__":
    main("fashion", "vgg")
