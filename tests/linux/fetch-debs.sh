#!/bin/sh
# Fetch Debian 12's kernel (linux-image-amd64 -> linux-image-6.1.0-N-amd64)
# and busybox-static with apt-get download, and unpack them into DIR/root.
#
#   fetch-debs.sh DIR
#
# DIR/debs is a cache: once a kernel .deb is there, nothing is downloaded
# again (delete DIR to pick up a newer kernel).  Writes DIR/kernel-version and
# touches DIR/.unpacked when DIR/root is complete.
set -eu

dir=${1:?usage: fetch-debs.sh DIR}
mkdir -p "$dir/debs"
debs=$(cd "$dir/debs" && pwd)

have_deb() {
	ls "$debs"/$1_*.deb >/dev/null 2>&1
}

# The metapackage only depends on the real, versioned image package.
resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' |
		head -n 1
}

if ! ls "$debs"/linux-image-6.1.0-*-amd64_*.deb >/dev/null 2>&1; then
	pkg=$(resolve_kernel)
	if [ -z "$pkg" ]; then
		echo "fetch-debs: linux-image-amd64 unknown to apt; running apt-get update" >&2
		apt-get update -q >&2
		pkg=$(resolve_kernel)
	fi
	if [ -z "$pkg" ]; then
		echo "fetch-debs: FATAL: cannot resolve linux-image-amd64 to a linux-image-6.1.0-N-amd64 package" >&2
		exit 1
	fi
	echo "fetch-debs: downloading $pkg" >&2
	(cd "$debs" && apt-get download -q "$pkg" >&2)
fi
if ! have_deb busybox-static; then
	echo "fetch-debs: downloading busybox-static" >&2
	(cd "$debs" && apt-get download -q busybox-static >&2)
fi

kdeb=$(ls "$debs"/linux-image-6.1.0-*-amd64_*.deb | sort -V | tail -n 1)
bdeb=$(ls "$debs"/busybox-static_*.deb | sort -V | tail -n 1)

rm -rf "$dir/root" "$dir/.unpacked"
mkdir -p "$dir/root"
dpkg-deb -x "$kdeb" "$dir/root"
dpkg-deb -x "$bdeb" "$dir/root"

kver=$(ls "$dir/root/lib/modules" | head -n 1)
test -n "$kver" && test -f "$dir/root/boot/vmlinuz-$kver" || {
	echo "fetch-debs: FATAL: $kdeb has no kernel image" >&2
	exit 1
}
# Debian 12 ships plain .ko files; older/newer ones may compress them.
find "$dir/root/lib/modules/$kver" -name '*.ko.xz' -exec unxz -f {} +
# The .deb carries no modules.dep: build one so modprobe can resolve
# dependencies (both here, with -d, and inside the initramfs).
depmod -b "$dir/root" "$kver"
echo "$kver" > "$dir/kernel-version"
touch "$dir/.unpacked"
echo "fetch-debs: kernel $kver unpacked in $dir/root" >&2
