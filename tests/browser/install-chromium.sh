#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests, unless $CHROMIUM (default /usr/bin/chromium) is already there.
# Playwright's own browser download is not reachable from the project's machines; Debian's package is.
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install-chromium: $CHROMIUM is missing and this is not a Debian-like system (no apt-get)." >&2
    echo "install-chromium: install Chromium yourself and run with CHROMIUM=/path/to/chromium." >&2
    exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-chromium: $CHROMIUM is missing; run as root: apt-get install chromium" >&2
        exit 1
    fi
    SUDO=(sudo -n)  # never prompt: CI has no terminal
fi
echo "install-chromium: installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run rather than failing on its lock.
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -q -y)
"${APT[@]}" update
"${APT[@]}" install --no-install-recommends chromium
if [ ! -x "$CHROMIUM" ]; then
    echo "install-chromium: apt-get installed chromium but $CHROMIUM is still missing" >&2
    exit 1
fi
"$CHROMIUM" --version
