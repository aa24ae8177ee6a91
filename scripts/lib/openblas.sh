# shellcheck shell=bash
# OpenBLAS picks its kernels at load from the CPU's model. On a CPU it does not
# recognize (a virtual machine that masks the model, a processor newer than the
# OpenBLAS build) it falls back to its generic Prescott kernels, which predate
# AVX2: F1 then trains 3.6 times slower (docs/PERFORMANCE.md, "OpenBLAS
# kernels"). nesgd warns of it; the scripts fix it for their own commands.
#
# openblas_coretype BINARY: where OPENBLAS_CORETYPE is unset, the CPU has AVX2
# and the OpenBLAS that BINARY loads chose kernels older than AVX2, exports
# OPENBLAS_CORETYPE=Haswell (OpenBLAS's AVX2 kernels, which every AVX2 CPU
# runs) and says so. Otherwise changes nothing.
openblas_coretype() {
  local bin=$1 core
  [ -z "${OPENBLAS_CORETYPE:-}" ] || return 0
  grep -qw avx2 /proc/cpuinfo 2>/dev/null || return 0
  core=$(OPENBLAS_VERBOSE=2 "$bin" --version 2>&1 | sed -n 's/^Core: //p' | head -n 1) || core=""
  case "${core,,}" in
    prescott|core2|penryn|dunnington|nehalem|sandybridge|atom|katmai|coppermine|northwood|banias|opteron|barcelona|bobcat|bulldozer|piledriver|steamroller|generic)
      export OPENBLAS_CORETYPE=Haswell
      echo "openblas: it chose its $core kernels on a CPU with AVX2; running with OPENBLAS_CORETYPE=Haswell" >&2
      ;;
  esac
}
