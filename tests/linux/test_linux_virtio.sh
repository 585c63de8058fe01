#!/bin/sh
# virtio-gpu and virtio-input under Debian's stock drivers (virtio_pci,
# virtio_gpu, virtio_input), one vCPU, `--display virtio --input virtio`:
#
#  1. the driver: card0 is bound to virtio_gpu, /proc/fb has its fbdev,
#     the connector's preferred mode is 1024x768, and the virtio devices'
#     interrupts are MSI-X vectors that fired (the KVM irqfd / MSI route
#     path) and no doorbell took an MMIO exit (all were KVM ioeventfds);
#  2. the console: a pattern written to tty1 (red text cells and a line of
#     text) shows in a screendump taken through the control socket;
#  3. resize: a VNC client (vncresize) sends SetDesktopSize 1280x720; the
#     guest re-reads the display information (its connector, probed by
#     `drmmode -p`, prefers 1280x720); Linux 6.1's fbdev console keeps its
#     first frame buffer size, so, as a desktop session does on a hotplug
#     event, drmmode (tests/linux/tools/drmmode.c, in the guest) sets the
#     preferred mode with colour bars; the client then receives a
#     1280x720 frame buffer with that picture, and `status` says 1280x720;
#  4. pointer: VNC pointer events (vnctype --pointer) at two positions and
#     a left click reach the virtio tablet's evdev device (evread -a) as
#     the matching absolute coordinates (0..32767 across the 1280x720
#     picture) and BTN_LEFT;
#  5. `poweroff` ends the vmm with status 0.
# Needs vmmctl, pngstat, vnctype and vncresize (tests/linux/tools/,
# `make bins`) on PATH: run it through tests/linux/run-all.sh.
# POSIX sh (busybox sh in L1); prints ok/FAIL lines and BENCH lines.

# Started directly: run-all.sh picks the place to run and adds the tools.
if [ -z "${GUEST_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run-all.sh" "$0"
fi

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SCREEN_TIMEOUT=${SCREEN_TIMEOUT:-30}
# Only one vmm runs at a time here; 6500-6549 is this test's range.
VNC_ADDR=${VNC_ADDR:-127.0.0.1:6501}
LABEL=virtio
START_RES=1024x768
NEW_W=1280
NEW_H=720
# Pointer positions (x,y in the 1280x720 picture).
POINTS=${VIRTIO_POINTS:-"640,360 100,50"}

require_guest vmmctl pngstat vnctype vncresize

BLOCK_COLS=40
BLOCK_ROWS=5
FONT_W=8
FONT_H=16
TEXT='vmm virtio-gpu console test'

sock="$WORK/virtio.sock"
png="$WORK/virtio.png"

# status_size: WxH from the control socket's status.
status_size() {
	vmmctl -t 5 "unix:$sock" status |
		sed -n 's/.*"width":\([0-9]*\),"height":\([0-9]*\).*/\1x\2/p'
}

# --- 1: the driver -------------------------------------------------------------
check_driver() {
	# shellcheck disable=SC2016 # expanded in the guest
	# card0's device is the PCI function (virtio-pci); its virtio device
	# is the one bound to virtio_gpu.
	check_guest_value "$LABEL" "card0 is driven by virtio_gpu" DRIVER \
		'basename $(readlink /sys/class/drm/card0/device/virtio*/driver)' '^virtio_gpu$'
	check_guest_value "$LABEL" "/proc/fb lists the virtio_gpu fbdev" PROCFB \
		'cat /proc/fb' '^0 virtio'
	check_guest_value "$LABEL" "the connector's preferred (first) mode is $START_RES" \
		MODE0 'cat /sys/class/drm/card0-Virtual-1/modes' "^$START_RES\$"
	check_guest_value "$LABEL" "fb0 is $START_RES" FB0 \
		'cat /sys/class/graphics/fb0/virtual_size' "^${START_RES%x*},${START_RES#*x}\$"
	# One CPU: column 2 is the count. PCI-MSI(-X) lines of virtio devices.
	# shellcheck disable=SC2016 # expanded in the guest
	check_guest_value "$LABEL" "virtio MSI-X vectors in use" MSIVEC \
		'grep -c "MSI.*virtio" /proc/interrupts' '^[3-9]$|^[1-9][0-9]+$'
	# shellcheck disable=SC2016 # expanded in the guest
	check_guest_value "$LABEL" "virtio MSI-X interrupts were delivered" MSICOUNT \
		'awk "/MSI.*virtio/ { n += \$2 } END { print n + 0 }" /proc/interrupts' \
		'^[1-9][0-9]*$'
	vm_send 'grep -E "virtio|CPU" /proc/interrupts | sed "s/^/IRQ: /"'
}

# --- 2: the console shows on the screendump ------------------------------------
pattern_shown() {
	s=$(pngstat "$1" 0 0 $((BLOCK_COLS * FONT_W)) $((BLOCK_ROWS * FONT_H))) || return 1
	awk -v f="$(field "$s" nonblack)" 'BEGIN { exit !(f >= 0.99) }'
}

check_console() {
	vm_send "{ printf '\\033[2J\\033[H\\033[41m'; i=0;" \
		"while [ \$i -lt $BLOCK_ROWS ]; do printf '%${BLOCK_COLS}s\\n' ''; i=\$((i + 1)); done;" \
		"printf '\\033[0m$TEXT\\n'; } > /dev/tty1; echo PATTERN-WRITTEN=\$?"
	vm_expect "$LABEL: test pattern written to tty1" '^PATTERN-WRITTEN=0$' "$CMD_TIMEOUT"
	t0=$(now)
	while :; do
		r=$(vmmctl -t 10 "unix:$sock" screendump "path=$png")
		case $r in
		*'"ok":true'*) ;;
		*) fail "$LABEL: screendump: '$r'"; return 1 ;;
		esac
		pattern_shown "$png" && break
		timed_out "$t0" "$SCREEN_TIMEOUT" && break
		sleep 0.5
	done
	echo "BENCH virtio_console_pattern_shown_s $(elapsed "$t0")"
	all=$(pngstat "$png") || { fail "$LABEL: pngstat cannot read $png"; return 1; }
	echo "# $LABEL: whole screen: $all"
	if [ "$(field "$all" width)x$(field "$all" height)" = "$START_RES" ]; then
		ok "$LABEL: screendump is $START_RES"
	else
		fail "$LABEL: screendump is not $START_RES: $all"
	fi
	s=$(pngstat "$png" 0 0 $((BLOCK_COLS * FONT_W)) $((BLOCK_ROWS * FONT_H)))
	mean=$(field "$s" mean)
	echo "# $LABEL: block: $s"
	if one_red "$s"; then
		ok "$LABEL: the console's red text cells are on the screendump (mean $mean)"
	else
		fail "$LABEL: the red text cells are not on the screendump: $s"
	fi
	s=$(pngstat "$png" 0 $((BLOCK_ROWS * FONT_H)) $((${#TEXT} * FONT_W)) "$FONT_H")
	echo "# $LABEL: text: $s"
	if awk -v f="$(field "$s" nonblack)" -v c="$(field "$s" colours)" \
		'BEGIN { exit !(f >= 0.05 && f <= 0.6 && c >= 2) }'; then
		ok "$LABEL: the console's text line '$TEXT' is on the screendump"
	else
		fail "$LABEL: the text line is not on the screendump: $s"
	fi
}

# --- 3: SetDesktopSize ------------------------------------------------------------
check_resize() {
	vr_out="$WORK/vncresize.out"
	t0=$(now)
	vncresize "$VNC_ADDR" "${NEW_W}x$NEW_H" -t 150 > "$vr_out" 2>&1 &
	vr_pid=$!

	# The guest re-reads the display information after the config
	# interrupt: the connector's preferred mode follows. Probed by the
	# DRM master (drmmode -p): sysfs shows the last probe's list, and
	# fbdev's own re-probe drops modes larger than its frame buffer.
	i=0
	got=
	while :; do
		i=$((i + 1))
		vm_send "drmmode -p | sed 's/^/PROBE$i: /'"
		vm_wait_for "^PROBE$i: " "$CMD_TIMEOUT"
		got=$(vm_text | sed -n "s/^PROBE$i: DRMMODE-PREFERRED //p" | tail -n 1)
		[ "$got" = "${NEW_W}x$NEW_H" ] && break
		timed_out "$t0" 90 && break
		sleep 1
	done
	if [ "$got" = "${NEW_W}x$NEW_H" ]; then
		ok "$LABEL: after SetDesktopSize the guest's connector prefers ${NEW_W}x$NEW_H (serial)"
		echo "BENCH virtio_resize_guest_mode_s $(elapsed "$t0")"
	else
		fail "$LABEL: the guest's connector prefers '$got', not ${NEW_W}x$NEW_H"
	fi
	check_guest_value "$LABEL" "the connector's first mode in sysfs is ${NEW_W}x$NEW_H" \
		MODE1 'cat /sys/class/drm/card0-Virtual-1/modes' "^${NEW_W}x$NEW_H\$"
	# For the record: what the fbdev console did by itself.
	echo "# $LABEL: without a DRM client: fb0 $(guest_value FBNOW 'cat /sys/class/graphics/fb0/virtual_size'), vmm surface $(status_size)"

	# A desktop's reaction to the hotplug: set the preferred mode.
	# (Not anchored: the shell's prompt may precede the line.)
	vm_send 'drmmode -w -t 600 & DRMPID=$!'
	vm_expect "$LABEL: drmmode set the guest's preferred mode ${NEW_W}x$NEW_H" \
		"DRMMODE-SET ${NEW_W}x$NEW_H\$" "$CMD_TIMEOUT"

	# The client gets the new size with the picture.
	while kill -0 "$vr_pid" 2>/dev/null; do
		timed_out "$t0" 160 && { kill "$vr_pid"; break; }
		sleep 0.2
	done
	wait "$vr_pid"
	vr_rc=$?
	sed 's/^/# vncresize: /' "$vr_out"
	if [ "$vr_rc" = 0 ] && grep -q "^VNCRESIZE-SIZE ${NEW_W}x$NEW_H [1-9]" "$vr_out"; then
		ok "$LABEL: the VNC client received a ${NEW_W}x$NEW_H frame buffer with the guest's picture"
		echo "BENCH virtio_resize_client_s $(elapsed "$t0")"
	else
		fail "$LABEL: the VNC client did not receive ${NEW_W}x$NEW_H (status $vr_rc)"
	fi
	got=$(status_size)
	if [ "$got" = "${NEW_W}x$NEW_H" ]; then
		ok "$LABEL: control status reports ${NEW_W}x$NEW_H"
	else
		fail "$LABEL: control status reports '$got', not ${NEW_W}x$NEW_H"
	fi
	# The picture: drmmode's eight colour bars, first one white.
	r=$(vmmctl -t 10 "unix:$sock" screendump "path=$png")
	s=$(pngstat "$png" 0 0 $((NEW_W / 8)) "$NEW_H")
	echo "# $LABEL: first bar: $s"
	if [ "$(field "$s" mean)" = 255,255,255 ] && [ "$(field "$s" width)" = "$NEW_W" ]; then
		ok "$LABEL: the ${NEW_W}x$NEW_H screendump shows drmmode's picture"
	else
		fail "$LABEL: the screendump is not drmmode's picture ($r; $s)"
	fi
}

# --- 4: pointer -> virtio tablet ------------------------------------------------
# abs_of P SIZE: the tablet value for pixel P of a SIZE-pixel axis
# (display/input.c: 0..32767 end to end, rounded).
abs_of() {
	awk -v p="$1" -v s="$2" 'BEGIN { printf "%d", int((p * 32767 + int((s - 1) / 2)) / (s - 1)) }'
}

# The key and axis events evread printed (not anchored: a prompt may
# precede a line).
ev_lines() {
	vm_text | grep -o 'EV [13] [0-9]* [0-9-]*'
}

check_pointer() {
	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'evread -a -s -g -t 300 "virtio tablet" & EVPID=$!'
	if ! vm_wait_for 'EVREAD-READY event[0-9]+' "$CMD_TIMEOUT"; then
		fail "$LABEL: evread did not find the virtio tablet"
		return 1
	fi
	ok "$LABEL: evread reads the virtio tablet ($(vm_text | grep -o 'EVREAD-READY event[0-9]*' | tail -n 1))"
	set --
	expected=
	for p in $POINTS; do
		x=${p%,*} y=${p#*,}
		set -- "$@" --pointer "$x,$y,0"
		expected="${expected}EV 3 0 $(abs_of "$x" "$NEW_W")
EV 3 1 $(abs_of "$y" "$NEW_H")
"
	done
	set -- "$@" --pointer "$x,$y,1" --pointer "$x,$y,0"
	expected="${expected}EV 1 272 1
EV 1 272 0
"
	t0=$(now)
	if vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" -d 50 "$@"; then
		ok "$LABEL: vnctype sent the pointer events ($POINTS, click)"
	else
		fail "$LABEL: vnctype failed (status $?)"
	fi
	want=$(printf %s "$expected" | grep -c .)
	while :; do
		got=$(ev_lines | grep -c .)
		[ "$got" -ge "$want" ] && break
		timed_out "$t0" "$CMD_TIMEOUT" && break
		sleep 0.2
	done
	echo "BENCH virtio_pointer_to_evdev_s $(elapsed "$t0")"
	sleep 1
	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'kill $EVPID'
	actual=$(ev_lines)
	if [ "$actual" = "$(printf %s "$expected" | sed '/^$/d')" ]; then
		ok "$LABEL: the tablet reported exactly the expected absolute positions and click"
	else
		fail "$LABEL: tablet events differ from the expected ones"
		echo "# expected: $(printf %s "$expected" | tr '\n' ',')"
		echo "# got:      $(printf '%s\n' "$actual" | tr '\n' ',')"
	fi
}

rm -f "$sock" "$png"
set -- "$VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append console=ttyS0 --memory 256M --cpus 1 --serial stdio \
	--display virtio --input virtio --vnc "$VNC_ADDR" --control "unix:$sock"
# shellcheck disable=SC2086 # VMM_ARGS: extra words
set -- "$@" ${VMM_ARGS:-}
echo "# $LABEL: $*"
vm_start "$LABEL" "$@"

if ! vm_shell_ready "$LABEL"; then
	echo "FAIL test_linux_virtio: the guest did not come up"
	exit 1
fi
echo "BENCH virtio_ready_s $(elapsed "$VM_T0")"

st=$(vmmctl -t 10 "unix:$sock" status)
case $st in
*'"ok":true'*'"display":"virtio"'*) ok "$LABEL: control socket status: $st" ;;
*) fail "$LABEL: control socket status: '$st'" ;;
esac

check_driver
check_console
check_resize
check_pointer

# shellcheck disable=SC2016 # expanded in the guest
vm_send 'kill $DRMPID; dmesg | grep -i -E "virtio|drm" | tail -n 20 | sed "s/^/DMESG: /"'
vm_poweroff "$LABEL"

# The vmm says once if a doorbell took an MMIO exit instead of its KVM
# ioeventfd (vmm/virtio/virtio-pci.c).
if grep -q 'doorbell through an MMIO exit' "$VM_ERR"; then
	fail "$LABEL: $(grep -m 1 'doorbell through an MMIO exit' "$VM_ERR")"
else
	ok "$LABEL: every virtio doorbell was a KVM ioeventfd (no MMIO-exit doorbell)"
fi

vm_stop
if [ "$FAILS" -ne 0 ]; then
	vm_dump
	echo "FAIL test_linux_virtio: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_virtio"
