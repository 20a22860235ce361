# -*- Python -*-
# lit configuration of the msa suite.
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MSA"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.msa_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "unit",
                   "fuzz", "Inputs", "aot", "embedding"]

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

# Shared libraries for mlir-runner, by the names the README uses.
config.substitutions.append(("%msa_lib_dir", config.msa_lib_dir))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%msa_src_root", config.msa_src_root))
config.substitutions.append(("%python", config.python_executable))
runner_libs = ",".join([
    os.path.join(config.mlir_lib_dir, "libmlir_runner_utils.so"),
    os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils.so"),
])
config.substitutions.append(("%mlir_runner_libs", runner_libs))
config.substitutions.append(
    ("%msa_cpu_lib", os.path.join(config.msa_lib_dir, "libmsa_kernels_cpu.so")))
config.substitutions.append(
    ("%msa_cuda_lib", os.path.join(config.msa_lib_dir, "libmsa_kernels_cuda.so")))

# mlir-runner with the CPU kernel library and MLIR's runner utilities.
config.substitutions.append(
    ("%run_cpu", "mlir-runner -e main -entry-point-result=void "
     "-shared-libs=%s,%s" % (os.path.join(config.msa_lib_dir,
                                          "libmsa_kernels_cpu.so"),
                             runner_libs)))

# The same with the CUDA kernel library (targets cuda and auto).
config.substitutions.append(
    ("%run_cuda_lib", "mlir-runner -e main -entry-point-result=void "
     "-shared-libs=%s,%s" % (os.path.join(config.msa_lib_dir,
                                          "libmsa_kernels_cuda.so"),
                             runner_libs)))
config.substitutions.append(("%msa_obj_root", config.msa_obj_root))

tool_dirs = [config.msa_tools_dir, config.llvm_tools_dir]
tools = ["msa-opt", "mlir-runner", "mlir-translate", "llc", "FileCheck",
         "not", "count"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Features: the kernel libraries that were built, and a usable NVIDIA GPU.
if config.msa_have_cpu_kernels:
    config.available_features.add("cpu-kernels")
if config.msa_have_cuda:
    config.available_features.add("cuda-kernels")
def _has_gpu():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True,
                             timeout=20)
        return out.returncode == 0 and "GPU" in out.stdout
    except Exception:
        return False
if _has_gpu():
    config.available_features.add("gpu")
