# Builds an unexecuted notebook from a cell-source file (notebooks/src/*.txt): cells separated by lines "#%% code" / "#%% md".
# usage: python3 tools/mknb.py notebooks/NN.ipynb < notebooks/src/NN.txt   (then execute it with bin/longconv4j run)
import json, sys
cells, cur, kind = [], [], None
def flush():
    if kind is None: return
    src = "\n".join(cur).strip("\n")
    lines = [l + "\n" for l in src.split("\n")]; lines[-1] = lines[-1].rstrip("\n")
    c = {"cell_type": kind, "metadata": {}, "source": lines}
    if kind == "code": c.update(execution_count=None, outputs=[])
    cells.append(c)
for line in sys.stdin.read().split("\n"):
    if line.startswith("#%% "):
        flush(); kind = "code" if line[4:].strip() == "code" else "markdown"; cur = []
    else: cur.append(line)
flush()
nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "Java (longconv4j)", "language": "java", "name": "longconv4j"},
      "language_info": {"name": "java", "file_extension": ".jshell", "mimetype": "text/x-java-source"}}, "nbformat": 4, "nbformat_minor": 5}
json.dump(nb, open(sys.argv[1], "w"), indent=1); open(sys.argv[1], "a").write("\n")
