#!/usr/bin/env bash
# Cargo runner for x86_64-pc-windows-gnu: runs a test or example .exe under Wine.
# ci/cross.sh sets WINEPREFIX, WINEDEBUG and WINEPATH (where bcryptprimitives.dll
# and the MinGW runtime DLLs are found) before cargo calls this.
set -euo pipefail
exec wine "$@" </dev/null
