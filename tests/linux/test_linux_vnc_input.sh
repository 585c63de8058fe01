#!/bin/sh
# Keyboard input through the vmm's VNC server into Debian's stock drivers
# (i8042 + atkbd, the VT keyboard handler, evdev):
#
#  1. typing: vnctype types `echo "typed-N:Ok" >/dev/ttyS0` and Return
#     (N random; the quotes, ':', '>' and capitals need Shift) into the
#     shell on tty1, the VT the display shows; the line must come out on
#     the serial console;
#  2. evdev codes: evread (tests/linux/tools/evread.c, in the guest's
#     /usr/bin) reads the AT keyboard's /dev/input/eventN from the serial
#     shell, grabbed so that nothing reaches tty1; vnctype sends a sample of
#     special keys as plain keysyms and as QEMU Extended Key Events (raw XT
#     codes); the EV_KEY press/release lines must be exactly the expected
#     Linux key codes, in order.
#  3. keyboard LEDs: Caps Lock typed into tty1 makes Linux's keyboard
#     driver light the Caps Lock LED (atkbd's 0xED command to our PS/2
#     keyboard); a VNC client sees it in QEMU's LED state pseudo-encoding,
#     and sees it go out after a second Caps Lock;
#  4. mouse: evread reads the PS/2 mouse's evdev device (psmouse); VNC
#     pointer motion by (+50, +30), a left click and one wheel step up
#     arrive as REL_X +50, REL_Y +30, BTN_LEFT press and release, and
#     REL_WHEEL +1 (the vmm runs with --input ps2: no tablet to prefer);
#  5. `poweroff` ends the vmm with status 0.
#
# VNC_KEYS overrides the key sample: words KEYSYM=CODE (a keysym sent with
# a KeyEvent) or xt:XT=CODE (an XT code sent with an Extended Key Event),
# CODE the expected evdev code; e.g. VNC_KEYS="0xffc2=64" must FAIL (F5 is
# 63).  Needs vnctype on PATH (tests/linux/tools/, `make bins`): run it
# through tests/linux/run-all.sh, which puts it there (in L1 too).
# POSIX sh (busybox sh in L1); prints ok/FAIL lines and BENCH lines.

# Started directly: run-all.sh picks the place to run and adds the tools.
if [ -z "${GUEST_KERNEL:-}" ]; then
	exec "$(dirname "$0")/run-all.sh" "$0"
fi

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Only one vmm runs at a time here: the default VNC address is free.
VNC_ADDR=${VNC_ADDR:-127.0.0.1:5900}
LABEL=vnc-input

# The sample: keysyms through the vmm's keymap, then raw XT codes.
# Print is E0 37 (KEY_SYSRQ), Super_L E0 5B (KEY_LEFTMETA), Pause the
# E1 1D 45 sequence; XT 0x56 is the ISO key left of Z (KEY_102ND), 0x9D
# Right Ctrl (E0 1D), 0xC6 QEMU's number for Pause.
KEYS_DEFAULT='0xffc2=63 0xff52=103 0xffe4=97 0xffeb=125 0xff8d=96
0xffff=111 0xff13=119 0xff61=99 0xff50=102 0xff15=99
xt:0x56=86 xt:0x9d=97 xt:0xc6=119'
KEYS=$(printf '%s\n' "${VNC_KEYS:-$KEYS_DEFAULT}" | tr '\n' ' ' | sed 's/ *$//')

require_guest vnctype

# --- 1: a line typed on tty1 ---------------------------------------------------
check_typing() {
	if wait_tty1_shell; then
		ok "$LABEL: a shell runs on tty1"
	else
		fail "$LABEL: no process has tty1 open"
		return 1
	fi
	n=$(random_number)
	t0=$(now)
	if vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" -f -d 20 \
		--text "echo \"typed-$n:Ok\" >/dev/ttyS0" --keysym 0xff0d; then
		ok "$LABEL: vnctype typed the command line"
	else
		fail "$LABEL: vnctype failed (status $?)"
		return 1
	fi
	# Not anchored at ^: the serial shell's idle prompt may precede it.
	vm_expect "$LABEL: the line typed on tty1 reached ttyS0 (typed-$n:Ok)" \
		"typed-$n:Ok\$" "$CMD_TIMEOUT" || return 1
	echo "BENCH vnc_typed_line_s $(elapsed "$t0")"
}

# --- 2: evdev key codes ------------------------------------------------------------
# ev_lines: the press/release events evread printed, as "CODE VALUE" lines
# (autorepeat, value 2, is left out).
ev_lines() {
	vm_text | grep -o 'EV 1 [0-9]* [0-9-]*' | awk '$4 == 0 || $4 == 1 { print $3, $4 }'
}

check_evdev() {
	set --
	expected=
	nkeys=0
	for k in $KEYS; do
		spec=${k%%=*} code=${k#*=}
		case $spec in
		xt:*) set -- "$@" --xt "${spec#xt:}" ;;
		*) set -- "$@" --keysym "$spec" ;;
		esac
		expected="$expected$code 1
$code 0
"
		nkeys=$((nkeys + 1))
	done
	want=$((nkeys * 2))

	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'evread -g -t 300 & EVPID=$!'
	if ! vm_wait_for 'EVREAD-READY event[0-9]+' "$CMD_TIMEOUT"; then
		fail "$LABEL: evread did not start"
		return 1
	fi
	dev=$(vm_text | grep -o 'EVREAD-READY event[0-9]*' | head -n 1)
	ok "$LABEL: evread reads the AT keyboard (${dev#EVREAD-READY })"

	t0=$(now)
	if vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" "$@"; then
		ok "$LABEL: vnctype sent $nkeys keys"
	else
		fail "$LABEL: vnctype failed (status $?)"
	fi
	# All events in, or a wrong one (then more cannot make it right).
	while :; do
		got=$(ev_lines | wc -l)
		[ "$got" -ge "$want" ] && break
		timed_out "$t0" "$CMD_TIMEOUT" && break
		sleep 0.2
	done
	echo "BENCH vnc_keys_to_evdev_s $(elapsed "$t0")"
	# A moment for stray extra events to show.
	sleep 1
	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'kill $EVPID'

	actual=$(ev_lines)
	if [ "$actual" = "$(printf %s "$expected" | sed '/^$/d')" ]; then
		ok "$LABEL: evdev codes of $nkeys keys ($KEYS)"
		return 0
	fi
	fail "$LABEL: evdev key events differ from the expected ones"
	echo "# keys:     $KEYS"
	echo "# expected: $(printf %s "$expected" | tr '\n' ',')"
	echo "# got:      $(printf '%s\n' "$actual" | tr '\n' ',')"
	return 1
}

# --- 3: keyboard LEDs ----------------------------------------------------------------
check_leds() {
	# Caps_Lock (0xffe5) on tty1, then wait for the LED state 4 (Caps).
	if vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" --keysym 0xffe5 --leds 4; then
		ok "$LABEL: Caps Lock on tty1 lit the guest's Caps Lock LED, seen by a VNC client"
	else
		fail "$LABEL: the Caps Lock LED did not reach the VNC client (status $?)"
		return 1
	fi
	if vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" --keysym 0xffe5 --leds 0; then
		ok "$LABEL: a second Caps Lock turned the LED off again"
	else
		fail "$LABEL: the Caps Lock LED did not go off (status $?)"
		return 1
	fi
}

# --- 4: mouse ---------------------------------------------------------------------------
# rel_sum CODE: the sum of the EV_REL values of CODE evread printed.
rel_sum() {
	vm_text | grep -o "EV 2 $1 [0-9-]*" | awk '{ s += $4 } END { print s + 0 }'
}

check_mouse() {
	# A first position, before the reader starts: the router's motion
	# is relative to the last position a client gave. -f: after a first
	# frame, so the display has a surface to place the pointer on.
	vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" -f --pointer 100,100,0 ||
		{ fail "$LABEL: vnctype could not send the first pointer event"; return 1; }
	# The keyboard reader's READY line is in the output already: wait
	# for one more.
	ready0=$(vm_text | grep -c 'EVREAD-READY event')
	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'evread -g -a -s -t 300 PS/2 & EVPID=$!'
	deadline=$(awk -v t="$(now)" -v d="$CMD_TIMEOUT" 'BEGIN { print t + d }')
	until [ "$(vm_text | grep -c 'EVREAD-READY event')" -gt "$ready0" ]; do
		if awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t > d) }'; then
			fail "$LABEL: evread did not find the PS/2 mouse"
			vm_text | grep -E 'evread|psmouse|serio' | tail -n 5
			return 1
		fi
		sleep 0.1
	done
	ok "$LABEL: evread reads the PS/2 mouse"
	if ! vnctype "$VNC_ADDR" -t "$CMD_TIMEOUT" -f -d 50 --pointer 150,130,0 \
		--pointer 150,130,1 --pointer 150,130,0 --pointer 150,130,8 \
		--pointer 150,130,0; then
		fail "$LABEL: vnctype could not send the pointer events"
		return 1
	fi
	# The release of BTN_LEFT (272) and the wheel come last.
	vm_wait_for 'EV 2 8 ' "$CMD_TIMEOUT"
	# shellcheck disable=SC2016 # expanded in the guest
	vm_send 'kill $EVPID'
	btn=$(vm_text | grep -o 'EV 1 272 [01]' | awk '{ print $4 }' | tr -d '\n')
	dx=$(rel_sum 0) dy=$(rel_sum 1) wheel=$(rel_sum 8)
	[ "$dx$dy$btn$wheel" = 5030101 ] ||
		vm_text | grep -E '^EV (1 27[2-4]|2) |psmouse|serio' | tail -n 20
	if [ "$dx" = 50 ] && [ "$dy" = 30 ]; then
		ok "$LABEL: pointer motion (+50, +30) arrived as REL_X $dx, REL_Y $dy"
	else
		fail "$LABEL: pointer motion (+50, +30) arrived as REL_X $dx, REL_Y $dy"
	fi
	if [ "$btn" = 10 ]; then
		ok "$LABEL: left button press and release arrived (BTN_LEFT 1, 0)"
	else
		fail "$LABEL: left button events were '$btn', not press then release"
	fi
	if [ "$wheel" = 1 ]; then
		ok "$LABEL: one wheel step up arrived as REL_WHEEL +1"
	else
		fail "$LABEL: one wheel step up arrived as REL_WHEEL $wheel"
	fi
}

set -- "$VMM" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append console=ttyS0 --memory 256M --cpus 1 --serial stdio \
	--vnc "$VNC_ADDR" --input ps2
# shellcheck disable=SC2086 # VMM_ARGS: extra words
set -- "$@" ${VMM_ARGS:-}
echo "# $LABEL: $*"
vm_start "$LABEL" "$@"

if ! vm_shell_ready "$LABEL"; then
	echo "FAIL test_linux_vnc_input: the guest did not come up"
	exit 1
fi
echo "BENCH vnc_input_ready_s $(elapsed "$VM_T0")"

check_typing
check_evdev
check_leds
check_mouse

vm_poweroff "$LABEL"

vm_stop
if [ "$FAILS" -ne 0 ]; then
	vm_dump
	echo "FAIL test_linux_vnc_input: $FAILS failure(s)"
	exit 1
fi
echo "ok test_linux_vnc_input"
