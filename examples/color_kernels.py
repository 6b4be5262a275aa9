"""Hand-designed kernels on a real colour photograph: the feature maps they make.

scikit-learn ships two sample photographs (``sklearn.datasets.load_sample_image``, 427x640
RGB JPEGs read with Pillow). This script takes one through glassnet's RGB utilities and
convolutions:

1. the uint8 (H, W, 3) picture becomes a float (3, H, W) tensor in [0, 1] (``ToTensor``),
   downscaled (``Resize``), and a grayscale copy (``Grayscale``, ITU-R 601-2 luma);
2. eight 3x3 kernels from ``glassnet.nn.kernels`` (Sobel x / y, the lectures' vertical and
   horizontal line detectors, emboss, corner, sharpen, blur) run on the grayscale image in
   one convolution (weight (8, 1, 3, 3));
3. on the colour image, two ways the lectures describe: one kernel per colour slice
   (a depthwise convolution, ``groups=3``: three maps, shown together as a colour picture)
   and one kernel spanning the depth of the image (weight (1, 3, 3, 3): the three slices'
   responses summed into one map);
4. the figure (original, grayscale, the colour maps, then the eight grayscale maps) goes to
   PNG (default docs/images/color_kernels.png), and the mean absolute response of each map
   is printed.

    python examples/color_kernels.py [PNG] [--image china.jpg|flower.jpg] [--size 160]

Needs scikit-learn, Pillow (scikit-learn reads the JPEGs with it) and matplotlib:
``pip install scikit-learn pillow matplotlib``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet.nn import kernels
from glassnet.vision import color, transforms

KERNELS = {   # name -> 3x3 kernel
    "Sobel x": kernels.sobel_x(),
    "Sobel y": kernels.sobel_y(),
    "vertical line (lectures)": kernels.vertical_line(centre=1),
    "horizontal line (lectures)": kernels.horizontal_line(centre=1),
    "emboss": kernels.emboss(),
    "corner": kernels.corner(),
    "sharpen": kernels.sharpen(),
    "blur": kernels.blur(3),
}


def load_photo(name: str) -> np.ndarray:
    """The (H, W, 3) uint8 sample photograph ``name``, with a clear message when
    scikit-learn or Pillow is missing."""
    try:
        from sklearn.datasets import load_sample_image
        return load_sample_image(name)
    except ImportError as e:
        raise SystemExit(f"color_kernels: {e}\n(pip install scikit-learn pillow)") from None


def feature_maps(photo: np.ndarray, size: int) -> dict:
    """Every map the figure shows, as NumPy arrays."""
    prep = transforms.Compose([transforms.ToTensor(), transforms.Resize(size)])
    rgb = prep(photo)                                     # (3, h, w) float in [0, 1]
    gray = transforms.Grayscale()(rgb)                    # (1, h, w)
    bank = np.stack(list(KERNELS.values()))[:, None]      # (8, 1, 3, 3)
    gray_maps = gn.functional.conv2d(gray[None], bank, padding=1).numpy()[0]
    # one Sobel per colour slice (depthwise), and one kernel across the depth
    sobel3 = np.repeat(kernels.sobel_x()[None, None], 3, axis=0)            # (3, 1, 3, 3)
    per_slice = gn.functional.conv2d(rgb[None], sobel3, padding=1, groups=3).numpy()[0]
    emboss3 = np.repeat(kernels.emboss()[None, None], 3, axis=0)
    embossed = gn.functional.conv2d(rgb[None], emboss3, padding=1, groups=3).numpy()[0]
    across = gn.functional.conv2d(rgb[None], sobel3.transpose(1, 0, 2, 3),   # (1, 3, 3, 3)
                                  padding=1).numpy()[0, 0]
    return {"rgb": color.chw_to_hwc(rgb.numpy()), "gray": gray.numpy()[0],
            "gray_maps": gray_maps, "per_slice": color.chw_to_hwc(per_slice),
            "embossed": color.chw_to_hwc(embossed), "across": across}


def draw(maps: dict, png: Path, title: str) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 7))
    axes = fig.subplots(3, 4)
    per_slice = np.abs(maps["per_slice"])
    top = [("photo (RGB)", np.clip(maps["rgb"], 0, 1), None),
           ("grayscale (ITU-R 601-2)", maps["gray"], "gray"),
           ("|Sobel x| per colour slice\n(depthwise, groups=3)",
            np.clip(per_slice / np.percentile(per_slice, 99), 0, 1), None),
           ("emboss per colour slice", np.clip(maps["embossed"], 0, 1), None)]
    for ax, (name, img, cmap) in zip(axes[0], top):
        ax.imshow(img, cmap=cmap)
        ax.set_title(name, fontsize=9)
    for ax, (name, m) in zip(axes[1:].ravel(), zip(KERNELS, maps["gray_maps"])):
        if name in ("sharpen", "blur"):
            ax.imshow(np.clip(m, 0, 1), cmap="gray")
        else:
            lim = np.percentile(np.abs(m), 99)          # the strongest 1% saturate
            ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"{name} (gray)", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=56)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("png", nargs="?", default="docs/images/color_kernels.png")
    ap.add_argument("--image", default="china.jpg", choices=["china.jpg", "flower.jpg"])
    ap.add_argument("--size", type=int, default=160, help="shorter side after resizing")
    args = ap.parse_args(argv)
    photo = load_photo(args.image)
    maps = feature_maps(photo, args.size)
    h, w = maps["gray"].shape
    print(f"{args.image}: {photo.shape[0]}x{photo.shape[1]}x3 uint8 -> {h}x{w}; per-channel "
          f"mean {np.round(color.channel_stats(maps['rgb'], -1)[0], 3).tolist()}")
    for name, m in zip(KERNELS, maps["gray_maps"]):
        print(f"  {name:28s} mean |response| {np.abs(m).mean():.4f}")
    print(f"  {'Sobel x across the depth':28s} mean |response| {np.abs(maps['across']).mean():.4f}"
          f" (one map: the three slices' responses summed)")
    draw(maps, Path(args.png), f"glassnet.nn.kernels on scikit-learn's {args.image}")
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
