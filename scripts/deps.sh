#!/bin/bash
# Installs uptrkv's build and test dependencies from Debian's packages.
#   scripts/deps.sh PKG...                      install (apt-get update first)
#   scripts/deps.sh --check-or-install PKG...   install only what is missing
set -euo pipefail

check=0
if [ "${1:-}" = "--check-or-install" ]; then check=1; shift; fi

missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ $check = 1 ] && [ ${#missing[@]} = 0 ]; then exit 0; fi
[ $check = 0 ] && missing=("$@")

if [ "$(id -u)" != 0 ]; then
	echo "uptrkv: missing packages: ${missing[*]}" >&2
	echo "uptrkv: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "uptrkv: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
