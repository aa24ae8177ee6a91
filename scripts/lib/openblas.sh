# shellcheck shell=bash
# OpenBLAS picks its kernels at load from the CPU's model. On a CPU it does not
# recognize (a virtual machine that masks the model, a processor newer than the
# OpenBLAS build) it falls back to its generic Prescott kernels, which predate
# AVX2: F1 then trains 3.6 times slower (docs/PERFORMANCE.md, "OpenBLAS
# kernels"). nesgd warns of it; the scripts fix it for their own commands.
#
# openblas_coretype BINARY: where OPENBLAS_CORETYPE is unset and BINARY warns
# that OpenBLAS chose kernels older than AVX2 on a CPU with AVX2 (the check and
# its list of kernels live in nesgd's runtime/threads.cpp; `nesgd train` says
# it before reading any data), exports OPENBLAS_CORETYPE=Haswell (OpenBLAS's
# AVX2 kernels, which every AVX2 CPU runs) and says so. Otherwise changes nothing.
openblas_coretype() {
  local bin=$1 said
  [ -z "${OPENBLAS_CORETYPE:-}" ] || return 0
  said=$("$bin" train --offline --data-dir /nonexistent/nesgd-openblas-check 2>&1) || true
  case "$said" in
    *"warning: OpenBLAS runs its "*)
      export OPENBLAS_CORETYPE=Haswell
      echo "openblas: nesgd found OpenBLAS on kernels older than AVX2 on a CPU with AVX2; running with OPENBLAS_CORETYPE=Haswell" >&2
      ;;
  esac
}
