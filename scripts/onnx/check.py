"""Checks ONNX files with the onnx package's checker, shape inference
included, for convnet's Go tests.

Usage: python3 check.py MODEL.onnx...
"""
import sys

import onnx

for path in sys.argv[1:]:
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in m.opset_import)
    print(f"{path}: valid (onnx {onnx.__version__}, IR version {m.ir_version}, opset {opsets})")
