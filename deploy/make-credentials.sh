#!/usr/bin/env bash
# Makes what a fresh memserver installation needs to be closed by default:
# a CA, a server certificate signed by it, a client certificate (for
# --tls-client-ca, mutual TLS), one bearer token per tenant and the tenants
# file holding their SHA-256 (never the tokens).
#
#   deploy/make-credentials.sh OUTDIR [--tenants "app ops:admin"] [--hosts "localhost,memserverd,127.0.0.1"]
#                                     [--uid UID] [--days N]
#
# OUTDIR gets ca.pem ca.key server.pem server.key client.pem client.key
# tenants.toml and tokens/NAME.token (mode 600). An existing OUTDIR file is
# never overwritten (run it on an empty directory). --uid UID (as root) gives
# the keys and tokens to that user, e.g. 10001, the image's memserver user,
# for a directory mounted into containers. The server then runs with
#   memserverd --tls-cert OUTDIR/server.pem --tls-key OUTDIR/server.key --tenants OUTDIR/tenants.toml
# and clients with
#   memctl --tls-ca OUTDIR/ca.pem --token-file OUTDIR/tokens/app.token ps
# Needs only the openssl command (Debian's openssl package).
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [--tenants \"app ops:admin\"] [--hosts \"localhost,127.0.0.1\"] [--uid UID] [--days N]" >&2; exit 2; }
[ $# -ge 1 ] || usage
out=$1; shift
tenants="app ops:admin"
hosts="localhost,memserverd,memserver,127.0.0.1,::1"
days=825
uid=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tenants) tenants=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --uid) uid=$2; shift 2 ;;
    *) usage ;;
  esac
done
command -v openssl >/dev/null || { echo "$0: needs the openssl command (apt-get install openssl)" >&2; exit 1; }

mkdir -p "$out/tokens"
for f in ca.pem ca.key server.pem server.key client.pem client.key tenants.toml; do
  [ -e "$out/$f" ] && { echo "$0: $out/$f exists; use an empty directory" >&2; exit 1; }
done
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The subjectAltName of the server certificate: DNS names and IP addresses.
san=""
IFS=, read -ra names <<<"$hosts"
for h in "${names[@]}"; do
  if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san+="IP:$h,"; else san+="DNS:$h,"; fi
done
san=${san%,}

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ec "$out/ca.key"
openssl req -x509 -new -key "$out/ca.key" -sha256 -days "$days" -subj "/CN=memserver CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$out/ca.pem" 2>/dev/null

sign() {  # sign NAME CN EXTENDED_KEY_USAGE [SAN]
  ec "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -n "${4:-}" ] && echo "subjectAltName=$4"
  } >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -sha256 -extfile "$tmp/$1.ext" -out "$out/$1.pem" 2>/dev/null
}
sign server "${names[0]}" serverAuth "$san"
sign client "memserver client" clientAuth

{
  echo "# memserverd --tenants: one table per tenant; token_sha256 is the SHA-256 of its bearer token."
  echo "# Quotas (all optional): max_processes, max_files (bytes), max_file_count, max_locked (bytes),"
  echo "# max_streams, max_calls. SIGHUP makes memserverd reload this file."
} >"$out/tenants.toml"
for spec in $tenants; do
  name=${spec%%:*}
  [[ $name =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || { echo "$0: bad tenant name '$name'" >&2; exit 1; }
  token=$(openssl rand -hex 32)
  printf '%s\n' "$token" >"$out/tokens/$name.token"
  digest=$(printf '%s' "$token" | openssl dgst -sha256 -r | cut -d' ' -f1)
  {
    echo
    echo "[tenants.$name]"
    echo "token_sha256 = \"$digest\""
    [ "$spec" != "${spec%:admin}" ] && echo "admin = true"
  } >>"$out/tenants.toml"
done
# Certificates and the tenants file are public; keys and tokens are not.
chmod 644 "$out/ca.pem" "$out/server.pem" "$out/client.pem" "$out/tenants.toml"
chmod 600 "$out"/*.key "$out"/tokens/*.token
chmod 755 "$out" "$out/tokens"
[ -n "$uid" ] && chown "$uid" "$out"/*.key "$out"/tokens/*.token
echo "made in $out: ca.pem, server.pem/.key (for $hosts), client.pem/.key, tenants.toml, tokens/{$(echo "$tenants" | sed 's/:admin//g; s/ /,/g')}.token"
