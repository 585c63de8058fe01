#!/bin/sh
# The std-VGA adapter under Debian's stock Linux drivers: the guest's console
# shows on it, through the `bochs` DRM driver (fbcon) in the resolution asked
# for with --resolution, and through `vgacon` in VGA text mode.
#
# For bochs at 1024x768 (the default mode, also bochs' fallback without an
# EDID) and 1280x720 (reachable only through the EDID's preferred mode):
#  - in the guest: card0 is PCI 1234:1111 bound to bochs-drm, /proc/fb has
#    the bochs framebuffer, the connector's preferred mode and fb0's size
#    are WxH.
# For vgacon (bochs left out with modprobe.blacklist=bochs):
#  - in the guest: the VT console driver is "VGA+" and there is no fb0;
#    the console surface is the 80x25 text screen, 640x400 in 8x16 cells.
# Then, for each:
#  - on tty1 the test clears the screen and writes a block of
#    red-background spaces and a line of text; then, through the control
#    socket (vmmctl), `status` reports WxH and a screendump (checked with
#    pngstat) is exactly WxH, has the red block where the text cells are,
#    grey-on-black text below it and black elsewhere;
#  - `poweroff` ends the vmm with status 0.
# Needs vmmctl and pngstat (tests/linux/tools/, `make bins`) on PATH:
# run it through tests/linux/run-all.sh, which puts them there (in L1 too).
# POSIX sh (busybox sh in L1); prints ok/FAIL lines and BENCH lines.

# Started directly: run-all.sh picks the place to run and adds the tools.
if [ -z "${GUEST_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run-all.sh" "$0"
fi

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# How long the screen may take to show the test pattern after it is written.
SCREEN_TIMEOUT=${SCREEN_TIMEOUT:-20}

require_guest vmmctl pngstat

# The test pattern on tty1, in character cells of the 8x16 font that fbcon
# and the adapter's text mode both use:
# BLOCK_ROWS lines of BLOCK_COLS red-background spaces from the top-left
# corner, then one line of text, then nothing (the screen was cleared).
BLOCK_COLS=48
BLOCK_ROWS=6
FONT_W=8
FONT_H=16
TEXT='vmm std-vga bochs test'

# The pattern is on the screen: the block is (almost) all lit.
pattern_shown() {
	s=$(pngstat "$1" 0 0 $((BLOCK_COLS * FONT_W)) $((BLOCK_ROWS * FONT_H))) || return 1
	awk -v f="$(field "$s" nonblack)" 'BEGIN { exit !(f >= 0.99) }'
}

# check_screen LABEL W H PNG: the screendump shows the pattern in WxH.
check_screen() {
	label=$1 w=$2 h=$3 png=$4
	bw=$((BLOCK_COLS * FONT_W)) bh=$((BLOCK_ROWS * FONT_H))
	tw=$((${#TEXT} * FONT_W))

	all=$(pngstat "$png") || { fail "$label: pngstat cannot read $png"; return; }
	echo "# $label: whole screen: $all"
	gw=$(field "$all" width) gh=$(field "$all" height)
	if [ "$gw" = "$w" ] && [ "$gh" = "$h" ]; then
		ok "$label: screendump is ${w}x$h"
	else
		fail "$label: screendump is ${gw}x$gh, expected ${w}x$h"
	fi

	# The red block: every pixel lit, one colour, red (fbcon's red is
	# 0xaa0000; a swapped R/B channel order would show blue).
	s=$(pngstat "$png" 0 0 "$bw" "$bh")
	echo "# $label: block: $s"
	mean=$(field "$s" mean)
	if one_red "$s"; then
		ok "$label: the ${BLOCK_COLS}x$BLOCK_ROWS red text cells are red (mean $mean)"
	else
		fail "$label: the red text cells are not one red: $s"
	fi

	# The text line below it: some pixels lit, more than one colour.
	s=$(pngstat "$png" 0 "$bh" "$tw" "$FONT_H")
	echo "# $label: text: $s"
	if awk -v f="$(field "$s" nonblack)" -v c="$(field "$s" colours)" \
		'BEGIN { exit !(f >= 0.05 && f <= 0.6 && c >= 2) }'; then
		ok "$label: the text line '$TEXT' is drawn"
	else
		fail "$label: the text line is not drawn: $s"
	fi

	# The rest of the console text area is black: right of the block and
	# below the text line and the cursor line after it.
	s=$(pngstat "$png" "$bw" 0 $((w - bw)) "$bh")
	s2=$(pngstat "$png" 0 $((bh + 3 * FONT_H)) "$w" $((h - bh - 3 * FONT_H)))
	echo "# $label: right of the block: $s"
	echo "# $label: below the text: $s2"
	if [ "$(field "$s" nonblack)" = 0.000000 ] &&
		[ "$(field "$s2" nonblack)" = 0.000000 ]; then
		ok "$label: the cleared screen around the pattern is black"
	else
		fail "$label: pixels lit outside the pattern"
	fi
}

# check_driver_bochs LABEL WxH: the guest's side of the bochs case.
check_driver_bochs() {
	label=$1 res=$2
	w=${res%x*} h=${res#*x}
	check_guest_value "$label" "card0 is PCI 1234:1111" PCIID \
		'cat /sys/class/drm/card0/device/vendor /sys/class/drm/card0/device/device | tr "\n" " "' \
		'^0x1234 0x1111 *$'
	# shellcheck disable=SC2016 # expanded in the guest
	check_guest_value "$label" "card0 is driven by bochs-drm" DRIVER \
		'basename $(readlink /sys/class/drm/card0/device/driver)' '^bochs-drm$'
	check_guest_value "$label" "/proc/fb lists the bochs framebuffer" PROCFB \
		'cat /proc/fb' '^0 bochs'
	check_guest_value "$label" "the connector's preferred (first) mode is $res" \
		MODE 'cat /sys/class/drm/card0-*/modes' "^${res}\$"
	check_guest_value "$label" "fb0 is $res" FBSIZE \
		'cat /sys/class/graphics/fb0/virtual_size' "^$w,$h\$"
	check_guest_value "$label" "the kernel log has the bochs fb0 line" DMESG \
		'dmesg | grep -m 1 "fb0: bochs"' 'fb0: bochs'
}

# check_driver_vgacon LABEL: the guest's side of the vgacon case.
check_driver_vgacon() {
	label=$1
	check_guest_value "$label" "init left bochs out" NOBOCHS \
		'grep -c "^bochs " /proc/modules' '^0$'
	check_guest_value "$label" "the VT console driver is vgacon (VGA+)" VTCON \
		'cat /sys/class/vtconsole/vtcon0/name' 'VGA\+'
	check_guest_value "$label" "there is no framebuffer" NOFB \
		'ls /sys/class/graphics | grep -c "^fb[0-9]"' '^0$'
	check_guest_value "$label" "the kernel log has vgacon's console line" DMESG \
		'dmesg | grep -m 1 "Console: colour VGA+"' 'colour VGA\+ 80x25'
}

# dump_until LABEL SOCK PNG TEST: screendumps into PNG until `TEST PNG`
# holds (the display refresh is asynchronous) or SCREEN_TIMEOUT passes.
dump_until() {
	du_t0=$(now)
	while :; do
		r=$(vmmctl -t 10 "unix:$2" screendump "path=$3")
		case $r in
		*'"ok":true'*) ;;
		*) fail "$1: screendump: '$r'"; return 1 ;;
		esac
		"$4" "$3" && return 0
		timed_out "$du_t0" "$SCREEN_TIMEOUT" && return 1
		sleep 0.5
	done
}

# load_font LABEL HEIGHT ROW...: in the guest, make a PSF1 font of 256
# glyphs HEIGHT lines tall, each glyph the given rows (octal escapes), and
# load it into the VT (busybox loadfont: KDFONTOP, i.e. vgacon_font_set,
# which writes it into the adapter's font plane).
load_font() {
	lf_label=$1 lf_h=$2
	shift 2
	glyph=$(printf '%s' "$@")
	vm_send "{ printf '\\066\\004\\000\\$(printf '%03o' "$lf_h")'; i=0;" \
		"while [ \$i -lt 256 ]; do printf '$glyph'; i=\$((i + 1)); done; }" \
		"> /tmp/font.psf && busybox loadfont < /tmp/font.psf; echo FONT-LOADED=\$?"
	vm_expect "$lf_label: an 8x$lf_h font loaded into the VT" '^FONT-LOADED=0$' "$CMD_TIMEOUT"
}

# The whole screen lit: every glyph of the font is a solid block.
all_lit() {
	s=$(pngstat "$1") || return 1
	awk -v f="$(field "$s" nonblack)" 'BEGIN { exit !(f >= 0.999) }'
}

# The first text row (cleared, no cursor) in 8-line cells of top-half
# glyphs: lines 0-3 lit, 4-7 dark.
top_halves() {
	a=$(pngstat "$1" 0 0 640 4) && b=$(pngstat "$1" 0 4 640 4) || return 1
	[ "$(field "$a" nonblack)" = 1.000000 ] && [ "$(field "$b" nonblack)" = 0.000000 ]
}

# check_guest_fonts LABEL SOCK PNG: fonts the guest loads are what the
# screen shows (vgacon writes them into plane 2; the adapter renders from
# there), including their height: an 8-line font makes the console 80x50.
check_guest_fonts() {
	label=$1 sock=$2 png=$3
	load_font "$label" 16 '\377' '\377' '\377' '\377' '\377' '\377' \
		'\377' '\377' '\377' '\377' '\377' '\377' '\377' '\377' '\377' '\377'
	if dump_until "$label" "$sock" "$png" all_lit; then
		ok "$label: a solid 8x16 font loaded by the guest lights every cell"
	else
		fail "$label: the guest's solid font is not shown: $(pngstat "$png")"
	fi
	# A cleared screen in the default colours, the cursor away from row 0.
	vm_send "printf '\\033[0m\\033[2J\\033[10;1H' > /dev/tty1; echo CLEARED=\$?"
	vm_expect "$label: tty1 cleared" '^CLEARED=0$' "$CMD_TIMEOUT"
	load_font "$label" 8 '\377' '\377' '\377' '\377' '\000' '\000' '\000' '\000'
	check_guest_value "$label" "an 8-line font makes tty1 80x50" TTYSIZE \
		'stty size < /dev/tty1' '^50 80$'
	if dump_until "$label" "$sock" "$png" top_halves; then
		ok "$label: 8-line cells show the guest's top-half glyphs"
	else
		fail "$label: 8-line cells not shown: $(pngstat "$png" 0 0 640 8)"
	fi
	st=$(vmmctl -t 5 "unix:$sock" status)
	case $st in
	*'"width":640,"height":400'*) ok "$label: 80x50 text is still 640x400" ;;
	*) fail "$label: 80x50 text: status '$st'" ;;
	esac
}

# check_display LABEL DRIVER WxH: boot with DRIVER (bochs or vgacon) driving
# the adapter; the console surface must be WxH.
check_display() {
	label=$1 driver=$2 res=$3
	w=${res%x*} h=${res#*x}
	fails_before=$FAILS
	sock="$WORK/$label.sock"
	png="$WORK/$label.png"
	rm -f "$sock" "$png"
	if [ "$driver" = bochs ]; then
		set -- --append console=ttyS0 --resolution "$res"
	else
		set -- --append "console=ttyS0 modprobe.blacklist=bochs"
	fi
	set -- "$VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--memory 256M --cpus 1 --serial stdio --control "unix:$sock" "$@"
	# shellcheck disable=SC2086 # VMM_ARGS: extra words (e.g. --display none)
	set -- "$@" ${VMM_ARGS:-}
	echo "# $label: $*"
	vm_start "$label" "$@"

	vm_shell_ready "$label" || return 1
	echo "BENCH ${driver}_${w}x${h}_ready_s $(elapsed "$VM_T0")"

	st=$(vmmctl -t 10 "unix:$sock" status)
	case $st in
	*'"ok":true'*'"display":"std"'*) ok "$label: control socket status: $st" ;;
	*) fail "$label: control socket status: '$st'" ;;
	esac

	"check_driver_$driver" "$label" "$res"

	# The pattern on tty1, the VT the console shows.
	vm_send "{ printf '\\033[2J\\033[H\\033[41m'; i=0;" \
		"while [ \$i -lt $BLOCK_ROWS ]; do printf '%${BLOCK_COLS}s\\n' ''; i=\$((i + 1)); done;" \
		"printf '\\033[0m$TEXT\\n'; } > /dev/tty1; echo PATTERN-WRITTEN=\$?"
	vm_expect "$label: test pattern written to tty1" '^PATTERN-WRITTEN=0$' "$CMD_TIMEOUT"

	# The console surface follows the mode the driver set.
	t0=$(now)
	got=
	while :; do
		st=$(vmmctl -t 5 "unix:$sock" status)
		got=$(printf '%s\n' "$st" |
			sed -n 's/.*"width":\([0-9]*\),"height":\([0-9]*\).*/\1x\2/p')
		[ "$got" = "$res" ] && break
		timed_out "$t0" "$SCREEN_TIMEOUT" && break
		sleep 0.2
	done
	if [ "$got" = "$res" ]; then
		ok "$label: control status reports ${res}"
	else
		fail "$label: control status reports '$got', expected $res ($st)"
	fi

	t0=$(now)
	dump_until "$label" "$sock" "$png" pattern_shown
	echo "BENCH ${driver}_${w}x${h}_pattern_shown_s $(elapsed "$t0")"
	if [ -f "$png" ]; then
		check_screen "$label" "$w" "$h" "$png"
	else
		fail "$label: no screendump written"
	fi
	[ "$driver" = vgacon ] && check_guest_fonts "$label" "$sock" "$png"

	vm_poweroff "$label"
	[ -e "$sock" ] && fail "$label: the control socket file is left behind"
	[ "$FAILS" = "$fails_before" ] && return 0
	vm_dump
	return 1
}

for res in ${BOCHS_RESOLUTIONS-1024x768 1280x720}; do
	check_display "bochs-$res" bochs "$res"
done
# 80x25 cells of the 8x16 font: 8-dot characters, as the adapter resets.
[ -n "${SKIP_VGACON:-}" ] || check_display vgacon vgacon 640x400

vm_stop
if [ "$FAILS" -ne 0 ]; then
	echo "FAIL test_linux_stdvga: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_stdvga"
