"""``python -m tensorlite.run script.py [args...]``: run a PyTorch script on tensorlite.

``import torch`` (and ``torch.nn``, ``torch.optim``, ``torch.utils.data``, ...) inside the
script, and in anything it imports, gives tensorlite's aliases (see tensorlite.compat);
``sys.argv`` is ``[script.py, args...]`` and the script runs as ``__main__``, as with
``python script.py``. Imports that tensorlite cannot serve (torchvision, torch.jit, ...)
stop with a ModuleNotFoundError that says what to use instead.
"""
from __future__ import annotations

import os
import runpy
import sys
from typing import List, Optional

USAGE = "usage: python -m tensorlite.run script.py [args...]"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() if argv else USAGE, file=sys.stderr if not argv else sys.stdout)
        return 0 if argv else 2
    script = argv[0]
    if not os.path.isfile(script):
        print(f"tensorlite.run: no such script: {script!r}\n{USAGE}", file=sys.stderr)
        return 2
    from . import compat
    compat.install()
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
