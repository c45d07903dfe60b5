"""Run the code blocks of the docs, so guides cannot rot."""
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("name", ["docs/extending.md", "docs/convolution.md",
                                  "docs/architecture.md", "README.md", "docs/pytorch-compat.md"])
def test_doc_code_blocks_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the README's tour saves a checkpoint in the working directory
    blocks = python_blocks(ROOT / name)
    assert blocks
    namespace = {"__name__": "docs_" + name.replace(".", "_").replace("/", "_")}
    for block in blocks:
        exec(compile(block, f"{name}", "exec"), namespace)
