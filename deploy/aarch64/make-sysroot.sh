#!/usr/bin/env bash
# Builds an arm64 (Raspberry Pi OS bookworm = Debian 12 arm64) sysroot for
# cross-compiling edgenas, by unpacking arm64 .deb files with `dpkg -x`.
#
# Why not `apt-get install libdnnl-dev:arm64`: it cannot be co-installed with
# the amd64 one (a shared header differs), so nothing arm64 is installed on
# the host; the packages are only downloaded and unpacked into a directory.
#
# Usage (as root):  deploy/aarch64/make-sysroot.sh [SYSROOT]
#   SYSROOT                  default /opt/edgenas-sysroot-arm64
#   EDGENAS_DEB_CACHE=DIR    where the .deb files are kept (default
#                            /var/cache/edgenas-sysroot-arm64)
#
# Idempotent: the sysroot is rebuilt only when the resolved set of .deb files
# changes (the list is kept in SYSROOT/.edgenas-sysroot); a rebuild goes to a
# fresh directory that replaces the old one, so no stale files survive.
set -euo pipefail

SYSROOT="${1:-/opt/edgenas-sysroot-arm64}"
CACHE="${EDGENAS_DEB_CACHE:-/var/cache/edgenas-sysroot-arm64}"
ARCH=arm64
STAMP=.edgenas-sysroot

# What the arm64 build links against. The closure of their dependencies is
# computed below. protobuf-compiler-grpc is here only because gRPC's CMake
# config refuses to load unless the plugins it names exist in the sysroot;
# the build runs the host's plugins (see toolchain.cmake). No OpenCL: Debian's
# arm64 oneDNN is built without a GPU runtime (DNNL_GPU_RUNTIME NONE in its
# dnnl_config.h and dnnl-config.cmake; that header is the one that differs
# from amd64's), so its CMake config does not look for OpenCL.
ROOTS=(
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  libdnnl-dev nlohmann-json3-dev libsqlite3-dev
  zlib1g-dev libssl-dev libc6-dev libstdc++-12-dev libgomp1
  libpng-dev libjpeg62-turbo-dev
)
# What the host needs to build and to run the result under emulation.
HOST_PACKAGES=(
  g++-aarch64-linux-gnu qemu-user-static cmake make pkgconf file
  protobuf-compiler protobuf-compiler-grpc
)

log() { echo "make-sysroot: $*"; }
die() { echo "make-sysroot: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it runs dpkg --add-architecture and apt-get)"

SYSROOT="$(realpath -m "$SYSROOT")"
case "$SYSROOT" in
  /|/usr|/usr/*|/bin|/lib|/etc|/var|/home|/root|/opt) die "refusing to use $SYSROOT as the sysroot" ;;
esac
if [ -e "$SYSROOT" ] && [ ! -f "$SYSROOT/$STAMP" ] && [ -n "$(ls -A "$SYSROOT" 2>/dev/null)" ]; then
  die "$SYSROOT exists, is not empty and was not made by this script; remove it or pick another path"
fi

export DEBIAN_FRONTEND=noninteractive

# --- 1. the foreign architecture and the package lists ----------------------
if ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
  log "dpkg --add-architecture $ARCH"
  dpkg --add-architecture "$ARCH"
fi
log "apt-get update"
apt-get update -q >/dev/null

# --- 2. host tools ----------------------------------------------------------
missing=()
for p in "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing host packages: ${missing[*]}"
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The host's protoc and grpc_cpp_plugin generate code for the arm64 headers:
# their upstream versions must be the same.
upstream() { sed -e 's/^[0-9]*://' -e 's/-[^-]*$//'; }
candidate() { apt-cache policy "$1" | awk '/Candidate:/ {print $2}'; }
check_same() {  # host-package arm64-package
  local h t
  h="$(dpkg-query -W -f='${Version}' "$1" | upstream)"
  t="$(candidate "$2:$ARCH" | upstream)"
  [ "$h" = "$t" ] || die "host $1 is $h but $2:$ARCH is $t; upgrade the host package (apt-get install --only-upgrade $1)"
}
check_same protobuf-compiler libprotobuf-dev
check_same protobuf-compiler-grpc libgrpc++-dev

# --- 3. the dependency closure ----------------------------------------------
# apt-cache depends prints every package of the closure at the start of a
# line. Names qualified ":arm64" are arm64 packages. An unqualified name is
# either Architecture: all (headers such as opencl-c-headers: wanted) or a
# host package satisfying a Multi-Arch: foreign dependency (a tool such as
# libc-dev-bin: not wanted). "<name>" is a virtual package or, for an
# Architecture: all package asked for as name:arm64, the arch-qualified alias.
roots=()
for p in "${ROOTS[@]}"; do roots+=("$p:$ARCH"); done
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${roots[@]}" \
  | grep -v '^ ' | sort -u)

packages=()
others=()
for entry in "${closure[@]}"; do
  name="${entry#<}"; name="${name%>}"
  if [[ "$entry" != "<"* && "$name" == *":$ARCH" ]]; then
    packages+=("$name")
  else
    others+=("${name%:"$ARCH"}")
  fi
done
# Of the others, keep the real Architecture: all packages (one apt-cache call).
mapfile -t arch_all < <(apt-cache show --no-all-versions "${others[@]}" 2>/dev/null \
  | awk '/^Package:/ {p = $2} /^Architecture: all$/ {print p}' | sort -u)
packages+=("${arch_all[@]}")
[ ${#packages[@]} -gt 0 ] || die "empty package closure"

# One line per .deb: 'URI' FILENAME SIZE HASH. The file names carry the
# versions, so their list says whether the sysroot is up to date.
mapfile -t uris < <(apt-get download --print-uris "${packages[@]}" | sort -k2)
[ ${#uris[@]} -eq ${#packages[@]} ] || die "apt-get download --print-uris gave ${#uris[@]} files for ${#packages[@]} packages"
manifest="$(printf '%s\n' "${uris[@]}" | awk '{print $2}')"
log "${#packages[@]} packages in the closure of: ${ROOTS[*]}"

if [ -f "$SYSROOT/$STAMP" ] && [ "$(cat "$SYSROOT/$STAMP")" = "$manifest" ]; then
  log "$SYSROOT is up to date"
  exit 0
fi

# --- 4. download ------------------------------------------------------------
mkdir -p "$CACHE"
# apt drops root to _apt for downloads: let it write here.
id _apt >/dev/null 2>&1 && chown _apt:root "$CACHE"
need=()
while read -r _ file _; do
  [ -s "$CACHE/$file" ] || need+=("$file")
done <<< "$(printf '%s\n' "${uris[@]}")"
if [ ${#need[@]} -gt 0 ]; then
  log "downloading ${#need[@]} .deb files into $CACHE"
  (cd "$CACHE" && apt-get download -q "${packages[@]}" >/dev/null)
fi
# Forget versions no longer in the closure.
for f in "$CACHE"/*.deb; do
  grep -qxF "$(basename "$f")" <<< "$manifest" || rm -f "$f"
done

# --- 5. unpack into a fresh directory, then swap it in ----------------------
new="$SYSROOT.new.$$"
rm -rf "$new"
mkdir -p "$new"
trap 'rm -rf "$new"' EXIT
while read -r file; do
  dpkg -x "$CACHE/$file" "$new"
done <<< "$manifest"

# Absolute symlinks (usr/lib/aarch64-linux-gnu/libm.so -> /lib/...) would
# point into the host: make each relative, to the same path in the sysroot.
fixed=0
while IFS= read -r -d '' link; do
  target="$(readlink "$link")"
  rel="$(realpath -m -s --relative-to="$(dirname "$link")" "$new$target")"
  ln -sfn "$rel" "$link"
  fixed=$((fixed + 1))
done < <(find "$new" -type l -lname '/*' -print0)
log "made $fixed absolute symlinks relative"

# Nothing left may point outside the sysroot.
dangling="$(find "$new" -xtype l -print | sed "s|^$new||" || true)"
[ -z "$dangling" ] || log "warning: dangling symlinks (harmless if not linked against):"$'\n'"$dangling"

echo "$manifest" > "$new/$STAMP"
if [ -e "$SYSROOT" ]; then
  rm -rf "$SYSROOT"
fi
mv "$new" "$SYSROOT"
trap - EXIT
log "sysroot ready: $SYSROOT ($(du -sh "$SYSROOT" | cut -f1), ${#packages[@]} packages)"
