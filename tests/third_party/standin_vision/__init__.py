"""TEST SCAFFOLDING, not glassnet: a minimal stand-in for the parts of torchvision that
the cited scripts in tests/third_party use (torchvision is not installed here).

It is pointed at by tests/third_party/run_script.py in place of ``torchvision`` when the
scripts run under real PyTorch (for the comparison runs), and under glassnet only when
asked (``--vision standin``), to find the gaps that lie behind a missing glassnet.vision.
It reads the local IDX files in torchvision's folder layout (``<root>/MNIST/raw/...``) and
returns tensors of the backend named by $THIRD_PARTY_BACKEND ("torch" or "glassnet").

Covered: datasets.MNIST / FashionMNIST(root, train, transform, target_transform,
download), transforms.Compose / ToTensor / Normalize / Lambda, utils.make_grid /
save_image. Nothing else.
"""
from . import datasets, transforms, utils  # noqa: F401
