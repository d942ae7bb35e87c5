#!/usr/bin/env bash
# Installs the Debian packages the interop suites use, when missing. Idempotent.
# Runs apt-get only as root; otherwise it names what is missing and fails.
set -euo pipefail

# package -> a command (or file) that proves it is installed
declare -A PROBE=(
  [openssl]=/usr/bin/openssl
  [unbound]=/usr/sbin/unbound
  [knot]=/usr/sbin/knotd
  [knot-dnsutils]=/usr/bin/kdig
  [sip-tester]=/usr/bin/sipp
  [stunnel4]=/usr/bin/stunnel4
  [kamailio]=/usr/sbin/kamailio
  [kamailio-tls-modules]=/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so
)

missing=()
for pkg in "${!PROBE[@]}"; do
  [ -e "${PROBE[$pkg]}" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test-deps: all interop packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing Debian packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged daemons on install; the tests run their own instances on high ports.
for svc in unbound knot kamailio stunnel4; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  service "$svc" stop >/dev/null 2>&1 || true
done
pkill -x unbound 2>/dev/null || true
pkill -x knotd 2>/dev/null || true
pkill -x kamailio 2>/dev/null || true
echo "test-deps: done"
