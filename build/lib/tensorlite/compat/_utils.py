"""``torch.utils`` under the alias: ``torch.utils.data`` is ``tensorlite.data``."""
from .. import data  # noqa: F401

__path__: list = []    # a package to the import system: `import torch.utils.data` works
