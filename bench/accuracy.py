"""Test accuracy and seconds of both presets on the active data, trained by the app's own trainer (the CLI).

    python bench/accuracy.py                          # both presets, their own epochs, on the active data
    python bench/accuracy.py --data offline --seeds 0 1 2
    CNN_EXPLORER_MNIST_NPZ=/path/mnist.npz python bench/accuracy.py --data npz --epochs 3 --presets "Fast and stable"

Targets: "Fast and stable" >= 0.97 on the offline split's 1,000 test digits within 60 s, and >= 0.99 on full
MNIST within 3 epochs. Prints one line per run and a JSON line per run; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlib.train import PRESETS, TrainConfig  # noqa: E402


def run_preset(name: str, epochs: int | None, seed: int, data: str, npz: str | None, out_dir: Path) -> dict:
    """Train one preset with ``python -m cnnlib.train``; its JSON summary plus the wall-clock seconds."""
    hp = replace(PRESETS[name], seed=seed, **({"epochs": epochs} if epochs else {}))
    config = TrainConfig(hp=hp, data_source=data, npz_path=npz, model_name=f"bench-{seed}",
                         models_directory=str(out_dir))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cnnlib.train", *config.to_args()], cwd=ROOT,
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        return {"preset": name, "seed": seed, "error": result.stderr.strip().splitlines()[-1]}
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return {"preset": name, "seed": seed, "epochs": summary["epochs"], "test_accuracy": summary["test_accuracy"],
            "train_seconds": summary["seconds"], "wall_seconds": round(wall, 1),
            "images_per_second": summary["images_per_second"], "data_source": summary["data_source"],
            "train_count": summary["train_count"], "device": summary["device"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="auto", help="auto, offline, keras or npz (as the CLI)")
    parser.add_argument("--npz", help="an MNIST .npz file, with --data npz")
    parser.add_argument("--epochs", type=int, help="override both presets' epochs (e.g. 3 on full MNIST)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as models:
        for name in args.presets:
            for seed in args.seeds:
                row = run_preset(name, args.epochs, seed, args.data, args.npz, Path(models))
                if "error" in row:
                    print(f"{name:<20} seed {seed}: failed: {row['error']}")
                else:
                    print(f"{name:<20} seed {seed}: test accuracy {row['test_accuracy']:.4f} after {row['epochs']} "
                          f"epochs on {row['train_count']:,} {row['data_source']} digits; {row['train_seconds']:.1f} s "
                          f"in the trainer, {row['wall_seconds']:.1f} s wall (with TensorFlow start-up); "
                          f"{row['images_per_second']:,.0f} images/s on {row['device']}")
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
