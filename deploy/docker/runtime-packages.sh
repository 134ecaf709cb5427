#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given
# programs load (ldd, then dpkg -S), one per line, sorted: the runtime
# stage of deploy/Dockerfile installs exactly these, so a library added to
# the build (a new -dev package) reaches the image without editing a list.
#
#   deploy/docker/runtime-packages.sh BINARY...
#
# Fails (exit 1, nothing on stdout) when a library is missing or belongs to
# no package: the runtime image could not start those programs.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }

libs=()
for bin in "$@"; do
  out=$(ldd "$bin") || { echo "runtime-packages: ldd failed on $bin" >&2; exit 1; }
  if grep -q 'not found' <<<"$out"; then
    grep 'not found' <<<"$out" >&2
    echo "runtime-packages: $bin needs libraries that are not installed" >&2
    exit 1
  fi
  # "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x...)" and the
  # loader's own "/lib64/ld-linux-x86-64.so.2 (0x...)".
  mapfile -t -O "${#libs[@]}" libs < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                                            $1 ~ /^\// { print $1 }' <<<"$out")
done
mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)

# With merged /usr, dpkg may have recorded a file under /lib or /usr/lib (and
# the loader under /lib64 or its target): ask for every spelling at once
# (one dpkg -S for all: it reads its whole database per call).
candidates=()
for lib in "${libs[@]}"; do
  case "$lib" in
    /usr/*) candidates+=("$lib" "${lib#/usr}") ;;
    *) candidates+=("$lib" "/usr$lib") ;;
  esac
  real=$(readlink -f "$lib")
  case "$real" in
    /usr/*) candidates+=("$real" "${real#/usr}") ;;
    *) candidates+=("$real" "/usr$real") ;;
  esac
done
# "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6" (unmatched spellings are
# reported on stderr and ignored here).
owners=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)

packages=()
for lib in "${libs[@]}"; do
  real=$(readlink -f "$lib")
  pkg=$(awk -F': ' -v a="$lib" -v b="/usr$lib" -v c="${lib#/usr}" -v d="$real" \
            -v e="/usr$real" -v f="${real#/usr}" '
          $2 == a || $2 == b || $2 == c || $2 == d || $2 == e || $2 == f {
            sub(/:.*/, "", $1); print $1; exit }' <<<"$owners")
  if [ -z "$pkg" ]; then
    echo "runtime-packages: no Debian package owns $lib" >&2
    exit 1
  fi
  packages+=("$pkg")
done
printf '%s\n' "${packages[@]}" | sort -u
