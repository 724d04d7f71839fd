"""Benchmark: longconv4j kernel vs Debian's python3-ipykernel, with jupyter_client.

  start: kernel process start -> first kernel_info_reply (median of --starts runs)
  first: the first cell's round trip right after that reply (of the last start; includes any wait for the
         kernel's interpreter to be ready)
  rtt:   execute_request "1+1" -> status idle, median of --n round trips (after a warm-up)
  cpu:   CPU time (user + system, all threads) the kernel process spent per measured round trip, from
         /proc/PID/stat: unlike wall time it hardly depends on what else runs on the machine
  mixed: (--workloads 1+1,mixed) the same figures for ordinary cells, in a fresh kernel: the round trips cycle
         through MIXED[name] (a declaration and an expression, a method call on a library object, a tensor
         expression), after the kernel's SETUP[name] cell; each line's median is over all of them

Usage: JUPYTER_PATH=<prefix with the longconv4j kernelspec> /usr/bin/python3 bench_kernel.py [--kernel longconv4j] [--n 200] [--starts 3]
"""
import argparse
import os
import statistics
import time

from jupyter_client.manager import KernelManager


def start_time(name):
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)   # sends kernel_info_request until a reply arrives
    took = time.perf_counter() - t0
    return took, km, kc


def round_trip(kc, code="1+1"):
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    took = time.perf_counter() - t0
    reply = kc.get_shell_msg(timeout=60)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"cell {code!r} failed: {reply['content'].get('evalue')}")
    return took


def cpu_seconds(km):
    """utime + stime of the kernel process (Linux), or None."""
    try:
        pid = km.provisioner.process.pid
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


# A second workload: ordinary cells, per kernel language. For the Java kernel: a declaration plus an expression
# (JShell's `var` path), a method call on a library object, a tensor expression (rendered), a call on a local
# collection. For ipykernel the same cells in Python (numpy is not assumed: a list stands in for the tensor).
SETUP = {"python3": "t = [[1.0] * 3 for _ in range(2)]; names = ['a', 'bb', 'ccc']",
         "java": "var t = Tensor.ones(DType.F32, 2, 3); var names = List.of(\"a\", \"bb\", \"ccc\");"}
MIXED = {"python3": ["x = 3; x * 2", "'longconv'.upper().count('O')", "[sum(r) * 2 for r in t]",
                     "sorted(names, key=len)[-1]"],
         "java": ["var x = 3; x * 2", "\"longconv\".toUpperCase().chars().filter(c -> c == 'O').count()",
                  "t.mul(2).sum(1, false)", "names.stream().max(Comparator.comparing(String::length)).get()"]}


def language(km):
    return "python3" if km.kernel_spec.language == "python" else km.kernel_spec.language


def bench(name, n, starts, workload="1+1"):
    st = []
    for i in range(starts):
        took, km, kc = start_time(name)
        st.append(took)
        if i < starts - 1:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
    if workload == "mixed":
        lang = language(km)
        first = round_trip(kc, SETUP[lang])
        cells = MIXED[lang]
    else:
        cells = [workload]
    if workload != "mixed":
        first = round_trip(kc, cells[0])
    for i in range(1 if workload != "mixed" else 0, 20):
        round_trip(kc, cells[i % len(cells)])
    c0 = cpu_seconds(km)
    rtts = [round_trip(kc, cells[i % len(cells)]) for i in range(n)]
    c1 = cpu_seconds(km)
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    cpu = (c1 - c0) / n if c0 is not None and c1 is not None else float("nan")
    return statistics.median(st), statistics.median(rtts), min(rtts), cpu, first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="longconv4j")
    ap.add_argument("--baseline", default="python3")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--workloads", default="1+1", help="comma-separated: 1+1 and/or mixed (see MIXED)")
    a = ap.parse_args()
    for workload in a.workloads.split(","):
        rows = {}
        for name in (a.baseline, a.kernel):
            rows[name] = bench(name, a.n, a.starts if workload == "1+1" else 1, workload)
            s, r, m, c, f = rows[name]
            print(f"{name:>14}: start->kernel_info_reply {s*1000:6.0f} ms, first cell {f*1000:6.0f} ms   {workload} round trip"
                  f" median {r*1000:7.2f} ms (min {m*1000:.2f})   kernel CPU {c*1000:.2f} ms per round trip", flush=True)
        (bs, br, _, bc, _), (ks, kr, _, kc, _) = rows[a.baseline], rows[a.kernel]
        print(f"{workload}: ratio start {ks/bs:.2f}x (target <= 3x), round trip {kr/br:.2f}x (target <= 2x),"
              f" kernel CPU {kc/bc:.2f}x   load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
