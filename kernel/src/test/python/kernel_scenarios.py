"""Behaviour of the longconv4j kernel over ZeroMQ with jupyter_client: interrupt, survival after an
exception / OutOfMemoryError, a wrongly signed message being ignored, stdin, update_display, live
streams, history, stop_on_error, comms (both directions, comm_info, unknown targets), shutdown and restart. The kernelspec must have a small heap (-Xmx512m) for the OOM case.
"""
import json
import os
import time
import unittest
import uuid

import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

KERNEL = os.environ.get("LONGCONV4J_KERNEL", "longconv4j")


class Scenarios(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)
        cls.kc.execute_interactive("0", timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def run_cell(self, code, timeout=60, **kw):
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append, **kw)
        return reply["content"], outputs

    def result_text(self, outputs):
        for m in outputs:
            if m["msg_type"] == "execute_result":
                return m["content"]["data"]["text/plain"]
        return None

    def interrupt_after(self, code, delay=1.0):
        msg_id = self.kc.execute(code)
        time.sleep(delay)
        t0 = time.time()
        self.km.interrupt_kernel()
        while True:
            reply = self.kc.get_shell_msg(timeout=10)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        return time.time() - t0, reply["content"]

    def test_interrupt_running_loop_and_sleep(self):
        for code in ["while (!Thread.currentThread().isInterrupted()) { Math.sqrt(2); }\nthrow new RuntimeException(\"stopped\");",
                     "Thread.sleep(60_000);",
                     "long spin = 0; while (true) { spin++; }"]:
            with self.subTest(code=code):
                took, content = self.interrupt_after(code)
                self.assertEqual(content["status"], "error")
                self.assertLess(took, 1.0, "stopped within 1 s")
                c, out = self.run_cell("2 + 2")
                self.assertEqual(self.result_text(out), "4")

    def test_survives_exception_and_out_of_memory(self):
        self.run_cell("int kept = 7;")
        c, _ = self.run_cell('throw new RuntimeException("x");')
        self.assertEqual(c["status"], "error")
        c, _ = self.run_cell("{ long[][] hog = new long[100_000][]; for (int i = 0; i < hog.length; i++) hog[i] = new long[1 << 20]; }")
        self.assertEqual(c["status"], "error")
        self.assertEqual(c["ename"], "java.lang.OutOfMemoryError")
        c, out = self.run_cell("kept * 6")
        self.assertEqual(self.result_text(out), "42")

    def test_wrong_or_missing_signature_is_ignored(self):
        info = self.km.get_connection_info()
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
        wrong = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
        wrong.send(sock, "kernel_info_request", {})
        unsigned = Session(key=b"")
        unsigned.send(sock, "kernel_info_request", {})
        self.assertEqual(sock.poll(1500), 0, "no reply to badly signed messages")
        right = Session(key=info["key"], signature_scheme=info["signature_scheme"])
        right.send(sock, "kernel_info_request", {})
        self.assertNotEqual(sock.poll(10000), 0, "the kernel still answers properly signed messages")
        ident, msg = right.recv(sock)
        self.assertEqual(msg["msg_type"], "kernel_info_reply")
        sock.close(0)

    def test_stdin(self):
        msg_id = self.kc.execute('String who = input("name? ");\nString more = new java.util.Scanner(System.in).nextLine();\nwho + "/" + more', allow_stdin=True)
        for answer in ["Ada", "Lovelace"]:
            req = self.kc.get_stdin_msg(timeout=30)
            self.assertEqual(req["msg_type"], "input_request")
            self.kc.input(answer)
        result = None
        while True:
            m = self.kc.get_iopub_msg(timeout=30)
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "execute_result":
                result = m["content"]["data"]["text/plain"]
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        self.assertEqual(result, '"Ada/Lovelace"')

    def test_update_display_and_progress(self):
        c, out = self.run_cell('String id = display("first");\nupdateDisplay(id, "second");')
        shown = [m for m in out if m["msg_type"] == "display_data"]
        updated = [m for m in out if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(len(updated), 1)
        self.assertEqual(shown[0]["content"]["transient"]["display_id"], updated[0]["content"]["transient"]["display_id"])
        self.assertEqual(updated[0]["content"]["data"]["text/plain"], '"second"')
        c, out = self.run_cell('try (var bar = progress("work", 3)) { for (int i = 0; i < 3; i++) { Thread.sleep(150); bar.step(); } }')
        self.assertEqual(len([m for m in out if m["msg_type"] == "display_data"]), 1)
        last = [m for m in out if m["msg_type"] == "update_display_data"][-1]
        self.assertIn("3/3", last["content"]["data"]["text/plain"])

    def test_stream_is_live(self):
        arrivals = []
        t0 = time.time()
        self.kc.execute_interactive('for (int i = 0; i < 3; i++) { System.out.println("tick " + i); Thread.sleep(500); }',
                                    timeout=30, output_hook=lambda m: arrivals.append((time.time() - t0, m)))
        streams = [t for t, m in arrivals if m["msg_type"] == "stream"]
        done = [t for t, m in arrivals if m["msg_type"] == "status"][-1]
        self.assertGreaterEqual(len(streams), 2, "printed lines arrive as separate messages while the cell runs")
        self.assertLess(streams[0], done - 0.7)

    def test_history_request(self):
        self.run_cell("int histA = 20;")
        c, out = self.run_cell("histA + 1")
        self.assertEqual(c["status"], "ok")
        h = self.kc.history(hist_access_type="tail", n=2, output=True, reply=True, timeout=30)["content"]["history"]
        self.assertEqual([row[2][0] for row in h], ["int histA = 20;", "histA + 1"])
        self.assertEqual(h[1][2][1], "21", "the text/plain result is the output")
        self.assertEqual(h[1][1], c["execution_count"], "line numbers are execution counts")
        found = self.kc.history(hist_access_type="search", pattern="histA*", n=10, reply=True, timeout=30)["content"]["history"]
        self.assertEqual([row[2] for row in found], ["histA + 1"])
        line = h[0][1]
        rng = self.kc.history(hist_access_type="range", session=0, start=line, stop=line + 1, reply=True, timeout=30)["content"]["history"]
        self.assertEqual([row[2] for row in rng], ["int histA = 20;"])
        old = self.kc.history(hist_access_type="range", session=-1, start=1, stop=None, reply=True, timeout=30)["content"]["history"]
        self.assertEqual(old, [], "no earlier sessions are stored")

    def replies(self, ids):
        got = {}
        while len(got) < len(ids):
            m = self.kc.get_shell_msg(timeout=60)
            if m["parent_header"].get("msg_id") in ids:   # earlier tests may leave replies behind
                got[m["parent_header"]["msg_id"]] = m["content"]["status"]
        return [got[i] for i in ids]

    def test_stop_on_error_aborts_queued_cells(self):
        ids = [self.kc.execute("int soe = 1;"), self.kc.execute("throw new RuntimeException(\"stop\");"),
               self.kc.execute("soe = 2;")]
        self.assertEqual(self.replies(ids), ["ok", "error", "aborted"])
        c, out = self.run_cell("soe")
        self.assertEqual(self.result_text(out), "1", "the aborted cell did not run")
        # control: without stop_on_error the queued cell runs
        ids = [self.kc.execute("throw new RuntimeException(\"go on\");", stop_on_error=False), self.kc.execute("soe = 3;")]
        self.assertEqual(self.replies(ids), ["error", "ok"])
        c, out = self.run_cell("soe")
        self.assertEqual(self.result_text(out), "3")

    def comm_roundtrip(self, msg_type, content, want_type=None, timeout=30):
        """Sends a comm message on shell; returns the IOPub messages of type want_type it caused (until idle)."""
        msg = self.kc.session.msg(msg_type, content)
        self.kc.shell_channel.send(msg)
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = self.kc.get_iopub_msg(timeout=timeout)
            if m["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                continue
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                return got
            if want_type is None or m["msg_type"] == want_type:
                got.append(m)
        self.fail(f"no idle after {msg_type}")

    def comm_info(self, target=None):
        self.kc.comm_info(target_name=target)
        while True:
            r = self.kc.get_shell_msg(timeout=30)
            if r["msg_type"] == "comm_info_reply":
                return r["content"]["comms"]

    def test_comms_both_ways(self):
        c, _ = self.run_cell('registerCommTarget("lc4j.echo", (comm, data) -> comm.onMessage(d -> comm.send(Map.of("echo", d.get("x")))));')
        self.assertEqual(c["status"], "ok", c)
        cid = uuid.uuid4().hex
        self.comm_roundtrip("comm_open", {"comm_id": cid, "target_name": "lc4j.echo", "data": {}})
        self.assertEqual(self.comm_info("lc4j.echo"), {cid: {"target_name": "lc4j.echo"}})
        replies = self.comm_roundtrip("comm_msg", {"comm_id": cid, "data": {"x": 5}}, "comm_msg")
        self.assertEqual([(m["content"]["comm_id"], m["content"]["data"]) for m in replies], [(cid, {"echo": 5.0})])
        self.comm_roundtrip("comm_close", {"comm_id": cid, "data": {}})
        self.assertNotIn(cid, self.comm_info())
        # a target nobody registered: the kernel closes the comm at once
        lost = uuid.uuid4().hex
        closes = self.comm_roundtrip("comm_open", {"comm_id": lost, "target_name": "nobody.here", "data": {}}, "comm_close")
        self.assertEqual([m["content"]["comm_id"] for m in closes], [lost])
        # opened by the kernel from a cell, with its data
        c, out = self.run_cell('var kc1 = openComm("lc4j.view", Map.of("value", 1)); kc1.send(Map.of("value", 2)); kc1.id()')
        self.assertEqual(c["status"], "ok", c)
        kid = self.result_text(out).strip('"')
        opens = [m for m in out if m["msg_type"] == "comm_open"]
        self.assertEqual([(m["content"]["comm_id"], m["content"]["target_name"], m["content"]["data"]) for m in opens], [(kid, "lc4j.view", {"value": 1})])
        self.assertEqual([m["content"]["data"] for m in out if m["msg_type"] == "comm_msg"], [{"value": 2}])
        self.assertIn(kid, self.comm_info("lc4j.view"))
        c, out = self.run_cell("kc1.close();")
        self.assertEqual([m["content"]["comm_id"] for m in out if m["msg_type"] == "comm_close"], [kid])
        self.assertNotIn(kid, self.comm_info())

    def test_zz_restart_then_shutdown(self):
        self.run_cell("int before = 1;")
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=120)
        c, out = self.run_cell("before", timeout=120)
        self.assertEqual(c["status"], "error", "a restarted kernel starts empty")
        c, out = self.run_cell("1 + 1")
        self.assertEqual(self.result_text(out), "2")


class Shutdown(unittest.TestCase):
    def test_shutdown_request_ends_the_process(self):
        km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=120)
        kc.stop_channels()
        km.request_shutdown()
        deadline = time.time() + 20
        while km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        self.assertFalse(km.is_alive())
        km.cleanup_resources()


if __name__ == "__main__":
    unittest.main()
