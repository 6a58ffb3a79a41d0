#!/usr/bin/env bash
# Cross-platform checks, run by .ci/run on Debian 12 as root:
#   1. `cargo clippy --all-targets --features tokio -- -D warnings` (a `cargo check` that also
#      lints) for Windows (GNU and MSVC), macOS (aarch64) and FreeBSD, the
#      standard library built from source for each, so code behind
#      `#[cfg(windows)]` or a BSD `cfg` is compiled and linted too;
#   2. `cargo test --features tokio` for x86_64-pc-windows-gnu: unit, integration and doc tests,
#      every test program run under Wine (this cargo runs doc tests of a cross
#      target through the target's runner too), so the suite meets Winsock's
#      semantics (SO_EXCLUSIVEADDRUSE, Windows' SO_REUSEADDR, WSA error codes).
#
# The toolchain is Debian's own Rust (packages rustc-web, cargo-web,
# rust-web-clippy and rust-web-src: a compiler, cargo, clippy and the standard
# library's source), put ahead of rustup's on PATH, with RUSTC_BOOTSTRAP=1 for
# `-Zbuild-std`. Builds go to target/cross; nothing is cached between runs
# except the packages this script installs.
#
# Fails (non-zero) when any install, check or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never DEBIAN_FRONTEND=noninteractive

start=$SECONDS
last=$SECONDS
step() {
  echo
  echo "==> cross [+$((SECONDS - last))s, total $((SECONDS - start))s] $*"
  last=$SECONDS
}

# --- install ------------------------------------------------------------------
step "install Debian's Rust toolchain, MinGW-w64 and Wine"
packages=(rustc-web cargo-web rust-web-clippy rust-web-src gcc-mingw-w64-x86-64-win32 wine wine64)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

mingw_gcc=x86_64-w64-mingw32-gcc-win32
# rustup's proxies (cargo, rustc, cargo-clippy) come first on PATH; the system
# toolchain goes ahead of them here, and RUSTC names the compiler for cargo.
export PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
unset RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER RUSTUP_TOOLCHAIN
# A target directory of its own, so these builds never invalidate the host build.
export CARGO_TARGET_DIR="$PWD/target/cross"
cargo --version
cargo clippy --version
"$RUSTC" --version
"$mingw_gcc" --version | head -n 1
wine --version

# --- compile checks and lints -----------------------------------------------------
check_targets=(
  x86_64-pc-windows-gnu
  x86_64-pc-windows-msvc
  aarch64-apple-darwin
  x86_64-unknown-freebsd
)
for target in "${check_targets[@]}"; do
  step "cargo clippy --all-targets --target $target"
  cargo clippy --locked --all-targets --features tokio -Zbuild-std --target "$target" -- -D warnings
  # Each lint build (its own std among it) is over a gigabyte, needed by no later step.
  rm -rf "${CARGO_TARGET_DIR:?}/$target"
done

# --- Windows test run under Wine --------------------------------------------------
step "build bcryptprimitives.dll (ProcessPrng) for Wine"
wine_dir="$CARGO_TARGET_DIR/wine"
mkdir -p "$wine_dir/dlls"
"$mingw_gcc" -O2 -shared -s -o "$wine_dir/dlls/bcryptprimitives.dll" ci/wine/processprng.c -ladvapi32

step "prepare a headless Wine prefix"
# Wine's own chatter off, but a DLL that fails to load is still reported.
export WINEPREFIX="$wine_dir/prefix" WINEDEBUG=-all,err+module WINEARCH=win64
# No display: Wine must never try to open a window or ask to install Mono/Gecko.
unset DISPLAY WAYLAND_DISPLAY
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
# The directory holding our DLL goes on the Windows PATH, where the loader finds
# DLLs that are neither beside the .exe nor in system32 (doc tests run from
# temporary directories, so copying the DLL beside each .exe would miss them).
export WINEPATH="Z:${wine_dir//\//\\}\\dlls"
wineboot --init </dev/null
wineserver -w
# One Wine server for the whole test run, killed when this script ends. Left
# to itself the server exits a second or two after its last program ends and
# the next program starts another; a program once failed at start with `wine
# client error:0: recvmsg: Connection reset by peer`, its server gone under it.
# The server's helper processes (winedevice.exe) live as long as it does and
# hold the output of the program that started them, so the test run below
# writes to a file, not to a pipe that would then never reach its end.
wineserver -p
trap 'wineserver -k 2>/dev/null || true' EXIT

step "cargo test --target x86_64-pc-windows-gnu (under Wine)"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="$mingw_gcc"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/ci/wine/run.sh"
log="$wine_dir/test.log"
status=0
cargo test --locked --no-fail-fast --features tokio -Zbuild-std --target x86_64-pc-windows-gnu >"$log" 2>&1 &
cargo_pid=$!
# Shown as it is written, until cargo ends.
tail -n +1 -f --pid="$cargo_pid" "$log"
wait "$cargo_pid" || status=$?
wineserver -k 2>/dev/null || true

# Sum the "test result: ok. N passed; M failed; ..." lines of every test binary;
# a test program that cargo started (`Running`, `Doc-tests`) but that ended
# before its harness printed that line is counted apart.
read -r passed failed abnormal < <(awk '
  /^ *(Running|Doc-tests) / { started++ }
  /^test result:/ { p += $4; f += $6; results++ }
  END { print p + 0, f + 0, started - results }' "$log")
step "done"
echo "windows (under Wine): $passed passed, $failed failed, $abnormal test program(s) ended abnormally"
if [ "$status" -ne 0 ]; then
  echo "cross: the Windows test run failed (exit $status)" >&2
  exit "$status"
fi
if [ "$passed" -eq 0 ]; then
  echo "cross: no test ran under Wine" >&2
  exit 1
fi
