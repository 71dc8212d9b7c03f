"""``python -m cnnlib.train``: the trainer's command line (its code is ``cnnlib/training/cli.py``).

    python -m cnnlib.train --data offline                  # the app's default preset, one line per epoch, then JSON
    python -m cnnlib.train --preset tutorial --out models/tutorial.keras
"""

import sys

from cnnlib.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
