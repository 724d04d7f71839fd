"""Where a kernel's CPU goes: starts KERNEL through jupyter_client, runs WARM `1+1` cells, then N more, and prints the
median round trip of the N and each thread's CPU (utime + stime from /proc/PID/task, threads grouped by name without
their numbers) over them. Linux only.
Usage: python3 thread_cpu.py KERNEL [N=220] [WARM=0]"""
import collections
import glob
import sys
import time

from jupyter_client.manager import KernelManager


def threads(pid):
    out = collections.Counter()
    for t in glob.glob(f"/proc/{pid}/task/*"):
        try:
            comm = open(t + "/comm").read().strip()
            st = open(t + "/stat").read().rsplit(")", 1)[1].split()
            out[comm.rstrip("0123456789 ")] += (int(st[11]) + int(st[12])) * 10   # clock ticks of 10 ms
        except OSError:
            pass
    return out


def main():
    name = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 220
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    pid = km.provisioner.process.pid
    run = lambda: kc.execute_interactive("1+1", timeout=60, output_hook=lambda m: None)
    for _ in range(warm):
        run()
    t0, w0, lat = threads(pid), time.time(), []
    for _ in range(n):
        s = time.perf_counter()
        run()
        lat.append(time.perf_counter() - s)
    t1 = threads(pid)
    lat.sort()
    print(f"{name}: {n} round trips after {warm}: median {1000 * lat[len(lat) // 2]:.2f} ms, wall {time.time() - w0:.1f} s")
    for k, v in sorted(((k, t1[k] - t0.get(k, 0)) for k in t1), key=lambda x: -x[1])[:10]:
        print(f"   {k:<24} {v:6d} ms CPU")
    kc.stop_channels()
    km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
