"""Print the largest |onnxruntime - glassnet| per family of tests/onnx/cases.py (batch 1 and
17, one export each), as the markdown table of docs/onnx.md:

    PYTHONPATH=src python -m tests.onnx.measure
"""
from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

import onnxruntime

from .cases import CASES, family
from .test_export import max_differences


def main() -> None:
    worst: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0, []])
    with tempfile.TemporaryDirectory() as d:
        for name in sorted(CASES):
            diffs = max_differences(name, Path(d))
            w = worst[family(name)]
            for n in (1, 17):
                for diff, scale in diffs[n]:
                    w[0] = max(w[0], diff)
                    w[1] = max(w[1], diff / scale)
            w[2] += 1
            w[3].append((max(dd for n in (1, 17) for dd, _ in diffs[n]), name))
    print(f"onnxruntime {onnxruntime.__version__}, float32, batch sizes 1 and 17 from one "
          f"export\n")
    print("| family | cases | max abs difference | max difference / output scale | "
          "largest in |")
    print("|---|---|---|---|---|")
    for fam, (d, rel, n, _) in sorted(worst.items()):
        print(f"| {fam} | {n} | {d:.2g} | {rel:.2g} | {max(_)[1]} |")


if __name__ == "__main__":
    main()
