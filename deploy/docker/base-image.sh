#!/usr/bin/env bash
# Makes sure the local Docker engine has a `debian:bookworm` image.
#
#   deploy/docker/base-image.sh [TAG]        (default TAG: debian:bookworm)
#
# When the image is already there (pulled from a registry, or built by an
# earlier run) it does nothing: on a normal machine the Dockerfile uses the
# registry's image unchanged. Otherwise (no registry reachable) it builds one
# the way Debian's own images are made: debootstrap --variant=minbase from
# this machine's apt mirror, then `docker import`. The image's apt sources
# point to that same mirror, so `apt-get install` works in builds FROM it.
#
# Needs root, debootstrap and a running Docker daemon. Exit 0 when the image
# exists afterwards, 1 otherwise.
set -euo pipefail

tag="${1:-debian:bookworm}"
suite=bookworm
docker="${DOCKER:-docker}"

if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "base-image: $tag is missing and building it needs root (debootstrap)" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "base-image: $tag is missing and debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 1
fi

# Prints the URI of the enabled apt source serving SUITE (not -updates, not
# -security), from one-line (sources.list) or deb822 (*.sources) files.
mirror_for() {
  local want="$1" uri="" f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk -v s="$want" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }   # skip [options]
        if ($(i + 1) == s) { print $i; exit }
      }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: paragraphs separated by blank lines; Enabled: no skips one.
    uri=$(awk -v s="$want" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " s " ") && uris != "")
          { split(uris, u, " "); print u[1]; found = 1; exit }
        types = ""; suites = ""; uris = ""; enabled = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:"   { $1 = ""; types = $0 }
      tolower($1) == "suites:"  { $1 = ""; suites = $0 }
      tolower($1) == "uris:"    { $1 = ""; uris = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { if (!found) flush() }' "$f")
    [ -n "$uri" ] && { echo "$uri" | sed 's/^ *//'; return 0; }
  done
  return 1
}

mirror=$(mirror_for "$suite") || {
  echo "base-image: no apt source for '$suite' in /etc/apt/sources.list{,.d/*}; cannot debootstrap" >&2
  exit 1
}
security=$(mirror_for "$suite-security" || true)
updates=$(mirror_for "$suite-updates" || true)

work=$(mktemp -d /var/tmp/memserver-base-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "base-image: building $tag with debootstrap from $mirror (takes a few minutes)"
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  echo "base-image: debootstrap failed (full log above)" >&2
  exit 1
fi

# The image's apt sources: the same mirror(s) this machine uses.
rm -f "$root/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" "${updates:+ $suite-updates}"
  if [ -n "$security" ]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$security" "$suite"
  fi
} >"$root/etc/apt/sources.list.d/debian.sources"
if [ -n "$updates" ] && [ "$updates" != "$mirror" ]; then
  printf '\nTypes: deb\nURIs: %s\nSuites: %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$updates" "$suite" >>"$root/etc/apt/sources.list.d/debian.sources"
  sed -i "s/^Suites: $suite $suite-updates\$/Suites: $suite/" "$root/etc/apt/sources.list.d/debian.sources"
fi
# Like Debian's official images: no package caches or lists in the layer.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log

tar --numeric-owner -C "$root" -c . |
  "$docker" import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$tag" >/dev/null
echo "base-image: built $tag ($("$docker" image inspect --format '{{.Size}}' "$tag") bytes)"
