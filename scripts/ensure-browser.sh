#!/usr/bin/env bash
# The browser journeys (tests/browser) drive Debian's Chromium through Playwright for Python
# (Playwright's own browser download cannot work on these machines). This installs Debian's
# `chromium` and `fonts-wqy-microhei` (Chinese glyphs) when /usr/bin/chromium is missing.
# Idempotent and silent when both are already there. Needs root and apt-get; elsewhere it only
# warns, and the journeys then skip with the reason (CI=true makes them fail instead).
set -uo pipefail

PACKAGES=(chromium fonts-wqy-microhei)
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}

missing=()
[[ -x "$CHROMIUM" ]] || missing+=(chromium)
[[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || missing+=(fonts-wqy-microhei)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null || [[ $(id -u) -ne 0 ]]; then
  echo "WARNING: ${missing[*]} missing and cannot be installed here (needs apt-get as root);" \
    "the browser journeys will be skipped (set CHROMIUM_PATH to a Chromium to run them)." >&2
  exit 0
fi

echo "Installing Debian packages for the browser journeys: ${missing[*]} …"
start=$SECONDS
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/ensure-browser.log 2>&1
}
if ! install; then
  echo "apt-get install failed; refreshing the package lists and retrying…"
  apt-get update -qq >>/tmp/ensure-browser.log 2>&1
  if ! install; then
    echo "ERROR: could not install ${missing[*]} (log: /tmp/ensure-browser.log)" >&2
    tail -n 20 /tmp/ensure-browser.log >&2
    exit 1
  fi
fi
echo "Installed ${missing[*]} in $((SECONDS - start)) s."
