#!/usr/bin/env bash
# Installs GNU gettext (msgfmt) so `make messages` can compile the translations. Without root or
# apt the committed .mo files are used as they are, so the site still runs in both languages.
set -u
if command -v msgfmt >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "gettext (msgfmt) absent and cannot be installed here: using the committed .mo files."
  exit 0
fi
echo "Installing gettext for the translations…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq gettext >/dev/null \
  || echo "gettext could not be installed: using the committed .mo files."
exit 0
