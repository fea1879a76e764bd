# Sourced by scripts/test.sh: Debian's Chromium for the browser tests (tests/docs/test_pages_in_browser.py
# and the compatibility page's).  Installed with apt-get when missing and this user may; otherwise
# FLUIDSPEC_CHROMIUM names a Chromium binary.  FLUIDSPEC_SKIP_BROWSER=1 skips it (those tests then
# skip, and say so).
if [ -z "${FLUIDSPEC_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium (browser tests)"
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null; }
  else
    echo "== no chromium and no apt-get as root: browser tests will skip (set FLUIDSPEC_CHROMIUM)"
  fi
fi
