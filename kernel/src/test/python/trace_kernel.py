"""Where the time of one execute_request goes: for each IOPub message of "1+1" (and the shell reply),
the median time after the request was sent, as seen by the client and as stamped by the kernel
(header date; same machine, same clock).

Usage: JUPYTER_PATH=<prefix with the kernelspec> /usr/bin/python3 trace_kernel.py KERNEL_NAME [N]
"""
import datetime
import statistics
import sys
import time

from jupyter_client.manager import KernelManager


def stamp(header):
    d = header["date"]
    return (datetime.datetime.fromisoformat(d) if isinstance(d, str) else d).timestamp()


def one(kc, code="1+1"):
    t0 = time.time()
    mid = kc.execute(code)
    seen = {}
    while True:
        m = kc.get_iopub_msg(timeout=60)
        if m["parent_header"].get("msg_id") != mid:
            continue
        kind = m["msg_type"] + ("." + m["content"]["execution_state"] if m["msg_type"] == "status" else "")
        seen[kind] = ((time.time() - t0) * 1000, (stamp(m["header"]) - t0) * 1000)
        if kind == "status.idle":
            break
    r = kc.get_shell_msg(timeout=60)
    while r["parent_header"].get("msg_id") != mid:   # e.g. a second kernel_info_reply of wait_for_ready
        r = kc.get_shell_msg(timeout=60)
    seen["execute_reply"] = ((time.time() - t0) * 1000, (stamp(r["header"]) - t0) * 1000)
    return seen


def main():
    name, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        for _ in range(20):
            one(kc)
        rows = [one(kc) for _ in range(n)]
        for k in rows[0]:
            print(f"{k:16s} client {statistics.median(r[k][0] for r in rows):7.2f} ms   kernel stamp {statistics.median(r[k][1] for r in rows):7.2f} ms")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
