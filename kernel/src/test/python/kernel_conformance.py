"""Protocol conformance of the longconv4j kernel with jupyter_kernel_test.

Run: JUPYTER_PATH=<prefix>/share/jupyter LONGCONV4J_KERNEL=<name> /usr/bin/python3 -m unittest -v kernel_conformance
(KernelSuiteTest in JUnit installs a kernelspec into a temporary prefix and runs this.)
"""
import os
import unittest

import jupyter_kernel_test as jkt


class LongConv4jKernelTests(jkt.KernelTests):
    kernel_name = os.environ.get("LONGCONV4J_KERNEL", "longconv4j")
    language_name = "java"
    file_extension = ".jshell"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the JShell warms up in the background; wait for it so the 15 s per-test timeouts hold
        cls.kc.execute_interactive("0", timeout=120)

    code_hello_world = 'System.out.println("hello, world");'
    code_stderr = 'System.err.println("oops");'
    completion_samples = [
        {"text": "Math.sqr", "matches": {"sqrt("}},
        {"text": "%mav", "matches": {"%maven"}},
        {"text": "Tensor.zer", "matches": {"zeros("}},
    ]
    complete_code_samples = ["1", "int x = 1;", "void f() { }", "%imports", "%%time\nint y = 2;"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "int x = (1 +", "class A {"]
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "\"ab\" + \"c\"", "result": "\"abc\""},
        {"code": "Tensor.zeros(DType.F32, 2).numel()", "result": "2"},
    ]
    code_display_data = [
        {"code": "display(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB));", "mime": "image/png"},
        {"code": "display(Table.create(\"t\", IntColumn.create(\"a\", 1, 2)));", "mime": "text/html"},
        {"code": "display(Tensor.ones(DType.F64, 2, 2));", "mime": "text/html"},
    ]
    supported_history_operations = ()
    code_inspect_sample = "Math.max"
    code_generate_error = 'throw new IllegalStateException("boom");'


if __name__ == "__main__":
    unittest.main()
