"""Runs a small notebook through the installed kernelspec with nbclient and with `jupyter nbconvert --execute`."""
import os
import subprocess
import sys
import tempfile
import unittest

import nbformat
from nbclient import NotebookClient

KERNEL = os.environ.get("LONGCONV4J_KERNEL", "longconv4j")


def small_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# smoke"),
        nbformat.v4.new_code_cell("var x = Tensor.ones(DType.F32, 2, 3);\nx.numel()"),
        nbformat.v4.new_code_cell('System.out.println("printed " + x.numel());'),
        nbformat.v4.new_code_cell("display(x);"),
    ]
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Java (longconv4j)", "language": "java"}
    return nb


class Notebooks(unittest.TestCase):
    def check(self, nb):
        code = [c for c in nb.cells if c.cell_type == "code"]
        self.assertEqual(code[0].outputs[0]["data"]["text/plain"], "6")
        self.assertEqual(code[1].outputs[0]["text"], "printed 6\n")
        self.assertIn("text/html", code[2].outputs[0]["data"])

    def test_nbclient(self):
        nb = small_notebook()
        NotebookClient(nb, kernel_name=KERNEL, timeout=120, startup_timeout=120).execute()
        self.check(nb)

    def test_nbconvert_execute(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "smoke.ipynb")
            nbformat.write(small_notebook(), path)
            subprocess.run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                            f"--ExecutePreprocessor.kernel_name={KERNEL}", "--ExecutePreprocessor.timeout=120", path],
                           check=True)
            self.check(nbformat.read(path, as_version=4))


if __name__ == "__main__":
    unittest.main()
