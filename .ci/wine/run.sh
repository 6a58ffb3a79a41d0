#!/usr/bin/env bash
# Cargo runner for x86_64-pc-windows-gnu: runs a test or example .exe under Wine.
# .ci/cross sets WINEPREFIX, WINEDEBUG and WINEPATH (where bcryptprimitives.dll
# and the MinGW runtime DLLs are found) before cargo calls this.
#
# A program that fails gets one more line on its standard error, naming it and
# its exit status: rustdoc shows a failed doc test's output only when there is
# some, and a program that Wine itself could not run may print nothing at all.
set -uo pipefail
status=0
wine "$@" </dev/null || status=$?
if [ "$status" -ne 0 ]; then
  echo ".ci/wine/run.sh: ${1##*/} exited with status $status under Wine" >&2
fi
exit "$status"
