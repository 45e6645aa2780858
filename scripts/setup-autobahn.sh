#!/usr/bin/env bash
# Installs Autobahn|Testsuite (`wstest`, Python 2.7 only) for the WebSocket
# conformance step (scripts/conformance.sh) into a project-local virtualenv,
# .tools/autobahn/venv, pinned by conformance/autobahn/requirements.txt.
# Without Python 2.7 it installs nothing and the step is skipped, saying why.
# Idempotent; instant once installed. Called by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=.tools/autobahn
REQ=conformance/autobahn/requirements.txt
STAMP=$DIR/installed
# Last virtualenv release that runs on Python 2.7.
VIRTUALENV_VERSION=20.15.1

say() { echo "setup: $*" >&2; }

want=$(cksum <"$REQ")
[ -x "$DIR/venv/bin/wstest" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && exit 0

# TETHER_PYTHON2 overrides; otherwise pyenv's 2.7 (shared/TOOLCHAIN.md), then PATH.
find_python2() {
  local c
  for c in "${TETHER_PYTHON2:-}" \
           $(command -v pyenv >/dev/null && ls -d "$(pyenv root)"/versions/2.7*/bin/python2.7 2>/dev/null | sort -rV) \
           "$(command -v python2.7 || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null \
      && { echo "$c"; return 0; }
  done
  return 1
}

if ! py=$(find_python2); then
  say "no Python 2.7 (looked at \$TETHER_PYTHON2, pyenv, PATH): the Autobahn conformance step will be skipped"
  exit 0
fi

say "installing Autobahn|Testsuite into $DIR/venv with $py (about a minute, once)"
rm -rf "$DIR" && mkdir -p "$DIR"
log=$DIR/install.log
# Never `pip install --prefix` into that interpreter: pip 19 then uninstalls
# its own setuptools while installing a newer one into the prefix.
if ! { "$py" -m pip install --disable-pip-version-check -q --target "$DIR/virtualenv" \
         "virtualenv==$VIRTUALENV_VERSION" \
       && PYTHONPATH=$DIR/virtualenv "$py" -m virtualenv -q --no-download "$DIR/venv" \
       && "$DIR/venv/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"; } >"$log" 2>&1; then
  cat "$log" >&2
  say "installing Autobahn|Testsuite failed (log above, and in $log)"
  exit 1
fi
"$DIR/venv/bin/wstest" --autobahnversion >>"$log" 2>&1
echo "$want" >"$STAMP"
say "Autobahn|Testsuite ready: $DIR/venv/bin/wstest"
