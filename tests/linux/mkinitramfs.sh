#!/bin/sh
# Build an initramfs from the unpacked Debian packages (see fetch-debs.sh).
#
#   mkinitramfs.sh LINUXDIR OUT STAGE OVERLAY COMPRESS MODULE...
#
# LINUXDIR  the fetch-debs.sh directory (root/, kernel-version)
# OUT       the cpio archive to write (atomically)
# STAGE     scratch directory for the tree (wiped first)
# OVERLAY   directory copied over the tree (init scripts, /etc), or "-"
# COMPRESS  gzip | none
# MODULE    kernel modules to include with all their dependencies; their
#           names, in order, go to /etc/modules for the init script to load.
#
# Extra files: set EXTRA_FILES to a list of "SRC:DEST" pairs (DEST relative
# to the tree root; a DEST ending in / keeps SRC's basename).
set -eu

linux=${1:?LINUXDIR}
out=${2:?OUT}
stage=${3:?STAGE}
overlay=${4:?OVERLAY}
compress=${5:?COMPRESS}
shift 5

root="$linux/root"
kver=$(cat "$linux/kernel-version")

rm -rf "$stage"
mkdir -p "$stage"
stage=$(cd "$stage" && pwd)
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp run root mnt; do
	mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp"

# busybox and a link for each applet, at the path busybox itself reports.
cp "$root/bin/busybox" "$stage/bin/busybox"
"$stage/bin/busybox" --list-full | while read -r applet; do
	case "$applet" in
	bin/busybox | "") continue ;;
	esac
	[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

# Modules: modprobe resolves the dependency chain against the unpacked
# tree's modules.dep; copy every .ko it would insmod.
mkdir -p "$stage/lib/modules/$kver"
: > "$stage/etc/modules"
for m in "$@"; do
	deps=$(modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null) || {
		echo "mkinitramfs: warning: module $m not found in $kver" >&2
		continue
	}
	echo "$deps" | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		rel=${path#*/lib/modules/$kver/}
		mkdir -p "$stage/lib/modules/$kver/$(dirname "$rel")"
		cp "$path" "$stage/lib/modules/$kver/$rel"
	done
	echo "$m" >> "$stage/etc/modules"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$root/lib/modules/$kver/$f" ] && cp "$root/lib/modules/$kver/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver"

if [ "$overlay" != - ]; then
	cp -R "$overlay/." "$stage/"
fi

for pair in ${EXTRA_FILES:-}; do
	src=${pair%%:*}
	dest=${pair#*:}
	case "$dest" in
	*/) dest="$dest$(basename "$src")" ;;
	esac
	mkdir -p "$stage/$(dirname "$dest")"
	cp -L "$src" "$stage/$dest"
done

# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null ||
	echo "mkinitramfs: warning: cannot mknod dev/console (not root?); /init reopens it" >&2

tmp="$out.tmp.$$"
mkdir -p "$(dirname "$out")"
(
	cd "$stage"
	find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --reproducible --quiet
) > "$tmp.raw"
case "$compress" in
gzip) gzip -n -6 < "$tmp.raw" > "$tmp" && rm -f "$tmp.raw" ;;
none) mv "$tmp.raw" "$tmp" ;;
*) echo "mkinitramfs: bad COMPRESS $compress" >&2; exit 1 ;;
esac
mv -f "$tmp" "$out"
