#!/usr/bin/env bash
# Installs the LibTorch inside PyPI's torch wheel (CUDA-enabled) into the
# project-local virtual environment .venv-torch/ (git-ignored), idempotently,
# and prints nothing else; scripts/setup.sh runs it when NESGD_TORCH=pypi.
#   NESGD_TORCH_VERSION  the torch release to install (default below: the one
#                        the project is tested against; "latest" takes PyPI's newest)
#   NESGD_VENV           the environment's folder (default .venv-torch in the checkout)
# The wheel pulls NVIDIA's CUDA libraries (cuBLAS, cuDNN, NCCL, ...) as its
# own dependencies, about 5 GB in all; nothing is installed outside the folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# The current torch release when this was last checked (2026-11-29); see README "Two LibTorch builds".
default_version=2.15.0
version=${NESGD_TORCH_VERSION:-$default_version}
venv=${NESGD_VENV:-$here/.venv-torch}
py=$venv/bin/python

want() { [ "$version" = latest ] && echo "torch" || echo "torch==$version"; }
installed() {
  [ -x "$py" ] || return 1
  local have
  have=$("$py" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null) || return 1
  [ "$version" = latest ] || [ "$have" = "$version" ]
}

if installed; then
  echo "torch_pypi: $("$py" -c 'import torch; print("torch", torch.__version__)') in $venv" >&2
  exit 0
fi
# Debian's interpreter (python3-venv from scripts/setup.sh), not whatever python3 PATH finds.
if [ ! -x "$py" ]; then
  /usr/bin/python3 -m venv "$venv"
fi
echo "torch_pypi: installing $(want) and numpy into $venv (several GB, once)" >&2
# Through uv (from PyPI, into the same environment), which fetches and unpacks
# the wheels in parallel: the 5 GB took 34 s where pip took 9 minutes on the
# same machine (2026-12-03). pip stays the fallback if uv cannot be installed.
pip=("$py" -m pip install --quiet --disable-pip-version-check --progress-bar off)
if "${pip[@]}" uv >&2 && [ -x "$venv/bin/uv" ]; then
  "$venv/bin/uv" pip install --quiet --no-cache --python "$py" "$(want)" numpy >&2
else
  echo "torch_pypi: uv did not install; installing with pip instead (slower)" >&2
  "${pip[@]}" "$(want)" numpy >&2
fi
installed || { echo "torch_pypi: torch did not install into $venv" >&2; exit 1; }
echo "torch_pypi: $("$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda)') in $venv" >&2
