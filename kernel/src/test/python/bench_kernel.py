"""Benchmark: longconv4j kernel vs Debian's python3-ipykernel, with jupyter_client.

  start: kernel process start -> first kernel_info_reply (median of --starts runs)
  rtt:   execute_request "1+1" -> status idle, median of --n round trips (after a warm-up)
  cpu:   CPU time (user + system, all threads) the kernel process spent per measured round trip, from
         /proc/PID/stat: unlike wall time it hardly depends on what else runs on the machine

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
    kc.get_shell_msg(timeout=60)
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


def bench(name, n, starts):
    st = []
    for i in range(starts):
        took, km, kc = start_time(name)
        st.append(took)
        if i < starts - 1:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
    for _ in range(20):
        round_trip(kc)
    c0 = cpu_seconds(km)
    rtts = [round_trip(kc) for _ in range(n)]
    c1 = cpu_seconds(km)
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    cpu = (c1 - c0) / n if c0 is not None and c1 is not None else float("nan")
    return statistics.median(st), statistics.median(rtts), min(rtts), cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", default="longconv4j")
    ap.add_argument("--baseline", default="python3")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--starts", type=int, default=3)
    a = ap.parse_args()
    rows = {}
    for name in (a.baseline, a.kernel):
        rows[name] = bench(name, a.n, a.starts)
        s, r, m, c = rows[name]
        print(f"{name:>14}: start->kernel_info_reply {s*1000:8.0f} ms   1+1 round trip median {r*1000:7.2f} ms (min {m*1000:.2f})"
              f"   kernel CPU {c*1000:.2f} ms per round trip", flush=True)
    (bs, br, _, bc), (ks, kr, _, kc) = rows[a.baseline], rows[a.kernel]
    print(f"ratio start {ks/bs:.2f}x (target <= 3x), round trip {kr/br:.2f}x (target <= 2x), kernel CPU {kc/bc:.2f}x"
          f"   load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
