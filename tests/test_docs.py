"""Run the code blocks of the docs, so guides cannot rot."""
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("name", ["extending.md"])
def test_doc_code_blocks_run(name):
    blocks = python_blocks(DOCS / name)
    assert blocks
    namespace = {"__name__": "docs_" + name.replace(".", "_")}
    for block in blocks:
        exec(compile(block, f"{name}", "exec"), namespace)
