#!/usr/bin/env bash
# The side-by-side suite of `make bench` (issue 7): every scenario on our vmm
# (A) and on QEMU -vnc (B), alternating A B A B, RUNS runs each, the same
# built-in guest (build/builtin/guest.elf, PVH) and the same client
# (tests/bench/vncbench). Writes a markdown table to $1 and prints it.
#
#   side-by-side.sh OUT.md
#   env: VMM, VNCBENCH, GUEST_ELF, RUNS (5), QEMU (qemu-system-x86_64),
#        ONLY (a scenario name: first-frame, anim, latency, idle, fanout,
#        footprint, browser) to run one scenario,
#        BROWSER_RUNS (the browser scenario's runs, ~60 s each: RUNS),
#        WEB_DIR (the console page for
#        QEMU's side: web/ next to VMM)
#
# A benchmark, not a test: a run that fails leaves its figure out ("n/a")
# and the suite goes on.
#
# QEMU's configuration, the fastest that shows the built-in guest's screen on
# this host's paravirtual KVM (kvm_pvm, no VMX/SVM, CPL 0 emulated):
#   -M pc -bios qboot.rom  qboot runs in well under 0.1 s and jumps to the
#                          PVH entry of -kernel; SeaBIOS takes ~3.5 s here
#                          (its real-mode code is emulated), and -M microvm
#                          boots but has no PCI std-VGA to show a screen on
#   -nodefaults -vga std   the Bochs VBE std-VGA on PCI, nothing else
#                          (no NIC option ROM, no floppy/CD)
#   -vnc ...,lossy=on      without lossy=on QEMU never sends JPEG, which the
#                          client asks for (Tight, quality 8)
#   -m 256 -smp 1          as our vmm's default
#   isa-debug-exit, -serial null, -debugcon file:  the ports our vmm has
# -enable-kvm without -cpu host (which aborts here on MSR 0x10a); -name
# debug-threads=on only names the threads (vCPU CPU time is told apart).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: side-by-side.sh OUT.md}
VMM=${VMM:-build/vmm}
VNCBENCH=${VNCBENCH:-build/tests/bench/vncbench}
GUEST_ELF=${GUEST_ELF:-build/builtin/guest.elf}
RUNS=${RUNS:-5}
QEMU=${QEMU:-qemu-system-x86_64}
ONLY=${ONLY:-}
# Ports of this suite (6450-6451: one per side, so a socket of side A in
# TIME_WAIT never meets side B; 6750-6752: the browser scenario's, below).
PORT_A=6450
PORT_B=6451
# The front ends: VNC on both sides, unless a scenario says otherwise.
FRONT_A=(--vnc "127.0.0.1:$PORT_A")
VNC_B="127.0.0.1:$((PORT_B - 5900)),lossy=on"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$VMM" "$VNCBENCH" "$GUEST_ELF"; do
	[ -e "$f" ] || { echo "side-by-side: $f is missing" >&2; exit 1; }
done
qemu_ok=1
command -v "$QEMU" >/dev/null || qemu_ok=0

# cmd_a APPEND...: our vmm running the built-in guest with APPEND.
cmd_a() {
	A=("$VMM" --demo --memory 256M --cpus 1 "${FRONT_A[@]}" --serial none
		--debugcon "$tmp/dbg.A" --append "$*")
}
# cmd_b APPEND...: QEMU running the same ELF.
cmd_b() {
	B=("$QEMU" -enable-kvm -M pc -bios /usr/share/qemu/qboot.rom -nodefaults
		-no-user-config -name qemu,debug-threads=on -m 256 -smp 1 -vga std -display none
		-vnc "$VNC_B" -serial null -no-reboot
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -debugcon "file:$tmp/dbg.B"
		-kernel "$GUEST_ELF" -append "$*")
}

# bench SIDE TAG KEYS VNCBENCH-ARGS... -- CMD: one run; the values of KEYS go
# to $tmp/TAG_ENC_KEY.SIDE (one BENCH line per encoding). "@DBG@" in the
# arguments is this side's debug-port file, emptied first. RUNNER (default
# VNCBENCH) is the measuring program: anything printing vncbench's lines.
bench() {
	local side=$1 tag=$2 keys=$3 args=() runner=${RUNNER:-$VNCBENCH}
	shift 3
	rm -f "$tmp/dbg.$side"
	for a in "$@"; do args+=("${a//@DBG@/$tmp/dbg.$side}"); done
	"$runner" "${args[@]}" > "$tmp/out" 2> "$tmp/err" ||
		{ echo "side-by-side: $side $tag: $(tail -1 "$tmp/err")" >&2; return 0; }
	while read -r line; do
		local enc
		enc=$(tr ' ' '\n' <<<"$line" | sed -n 's/^enc=//p')
		for k in $keys; do
			local v
			v=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$k=//p")
			[ -n "$v" ] && echo "$v" >> "$tmp/${tag}_${enc}_$k.$side"
		done
	done < <(grep '^BENCH ' "$tmp/out")
}

# stats FILE -> "median min max"
stats() {
	[ -s "$1" ] || { echo "n/a n/a n/a"; return; }
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		printf "%.4g %.4g %.4g %d\n", m, v[1], v[NR], NR }'
}

rows=()
# row LABEL FILE-STEM [NOTE]: one table row from $tmp/STEM.A and .B
row() {
	local label=$1 stem=$2 note=${3:-} ma mina maxa na mb minb maxb nb ratio a b
	read -r ma mina maxa na < <(stats "$tmp/$stem.A")
	read -r mb minb maxb nb < <(stats "$tmp/$stem.B")
	ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN {
		if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')
	a="$ma ($mina–$maxa, n=${na:-0})"
	b="$mb ($minb–$maxb, n=${nb:-0})"
	[ "$ma" = n/a ] && a="n/a"
	[ "$mb" = n/a ] && b="${note:-n/a}"
	rows+=("| $label | $a | $b | $ratio |")
	printf '%-60s A %-30s B %-30s %s\n' "$label" "$a" "$b" "$ratio"
}
section() { rows+=("| **$1** | | | |"); echo "== $1"; }

want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

# Run "bench SIDE ..." for A then B, RUNS times (A B A B ...).
# pair TAG KEYS APPEND VNCBENCH-ARGS...
pair() {
	local tag=$1 keys=$2 append=$3
	shift 3
	for i in $(seq "$RUNS"); do
		cmd_a "$append"
		bench A "$tag" "$keys" --port "$PORT_A" "$@" -- "${A[@]}"
		if [ "$qemu_ok" = 1 ]; then
			cmd_b "$append"
			bench B "$tag" "$keys" --port "$PORT_B" "$@" -- "${B[@]}"
		fi
	done
}

# 1. Boot to first frame (and 6. footprint: RSS at that moment).
if want first-frame; then
	pair ff "first_frame_s rss_minus_guest_mib rss_mib" test=vga-pattern \
		--mode first-frame --encodings tight
	section "1. boot to first frame (1024x768 test picture, Tight)"
	row "exec → client holds the guest's test picture (s)" ff_tight_first_frame_s
fi

# 2. Full-screen animation, 1024x768 and 1920x1080, three encodings.
if want anim; then
	for size in 1024x768 1920x1080; do
		w=${size%x*} h=${size#*x}
		pair "anim$size" "fps mpixel_s bytes_per_update cpu_ms_per_update other_ms_per_update" \
			"test=vga-anim w=$w h=$h" --mode anim --size "$size" \
			--encodings tight,zrle,raw --seconds 2 --warmup 0.5
		section "2. full-screen animation $size (every pixel changes every guest frame)"
		for enc in tight zrle raw; do
			row "$enc: updates/s to one client" "anim${size}_${enc}_fps"
			row "$enc: Mpixel/s" "anim${size}_${enc}_mpixel_s"
			row "$enc: bytes per update" "anim${size}_${enc}_bytes_per_update"
			row "$enc: VMM CPU ms per update (all threads)" "anim${size}_${enc}_cpu_ms_per_update"
			row "$enc: VMM CPU ms per update (without the vCPU thread)" "anim${size}_${enc}_other_ms_per_update"
		done
	done
fi

# 3. Input to photon: key press → the guest draws the echo → the client has it.
if want latency; then
	pair lat "p50_ms p99_ms lost" "test=input w=640 h=400" --mode latency \
		--encodings tight --keys 200 --wait-for "input ready" \
		--wait-file @DBG@
	section "3. input to photon (200 keys per run, Tight, 640x400 echo screen)"
	row "key press → echo on the client, p50 (ms)" lat_tight_p50_ms
	row "key press → echo on the client, p99 (ms)" lat_tight_p99_ms
fi

# 4. Idle: guest idle (test picture drawn), one client connected, 10 s.
if want idle; then
	pair idle "cpu_pct updates" test=vga-pattern --mode idle --encodings tight \
		--seconds 10 --warmup 0.5
	section "4. idle cost (guest idle, one client, 10 s)"
	row "VMM CPU (%)" idle_tight_cpu_pct
fi

# 5. Fan-out: 1, 8, 32 viewers on one animating guest (Raw: the cheapest
# for the viewers, which share this machine's 2 CPUs with the VMM).
if want fanout; then
	section "5. fan-out (1024x768 animation, Raw, 2 s)"
	for n in 1 8 32; do
		pair "fan$n" "fps_median fps_min cpu_pct" test=vga-anim --mode fanout \
			--encodings raw --clients "$n" --seconds 2 --warmup 1
		row "$n viewers: per-client updates/s (median)" "fan${n}_raw_fps_median"
		row "$n viewers: slowest viewer's updates/s" "fan${n}_raw_fps_min"
		row "$n viewers: VMM CPU (%)" "fan${n}_raw_cpu_pct"
	done
fi

# 6. Footprint: RSS minus guest RAM (from the first-frame runs, one client
# connected, picture shown), and exec → the first KVM_RUN (perf: the
# sys_enter_ioctl tracepoint filtered on KVM_RUN, no ptrace slow-down).
first_run() {
	perf record -q -o "$tmp/perf.data" -e sched:sched_process_exec \
		-e syscalls:sys_enter_ioctl --filter 'cmd == 0xae80' -- \
		timeout 20 "$@" >/dev/null 2>&1
	perf script -i "$tmp/perf.data" -F time,event 2>/dev/null | awk '
		/sched_process_exec/ { t0 = $1 + 0 }	# the last exec: timeout(1), then the VMM
		/sys_enter_ioctl/ && t0 { printf "%.4f\n", $1 - t0; exit }'
}
if want footprint || want first-frame; then
	section "6. footprint"
	row "VMM RSS minus guest RAM, one client, test picture shown (MiB)" ff_tight_rss_minus_guest_mib
	row "VMM RSS including guest RAM touched (MiB)" ff_tight_rss_mib
fi
if want footprint; then
	if command -v perf >/dev/null; then
		for i in $(seq "$RUNS"); do
			cmd_a test=boot
			first_run "${A[@]}" >> "$tmp/kvmrun.A"
			if [ "$qemu_ok" = 1 ]; then
				cmd_b test=boot
				first_run "${B[@]}" >> "$tmp/kvmrun.B"
			fi
		done
		row "process start (exec) → first vCPU entry, KVM_RUN (s)" kvmrun
	fi
fi

# 7. Browser path: our console page (web/, noVNC) in headless Chromium,
# driven by tests/bench/run-browser-bench.sh (browser_bench.mjs), against our
# --web and QEMU's -vnc ...,websocket=. The page, its settings (Tight, JPEG
# quality 6, compression 2: what a user gets) and the browser are the same
# on both sides: ours serves the page with a fresh token (--url stderr);
# QEMU has no HTTP server, so the driver answers the page's HTTP requests
# from WEB_DIR inside the browser and only the WebSocket goes to QEMU
# (which upgrades only "/": ?path= and no token). QEMU's websocket= needs
# its plain VNC listener too; ours runs --vnc none. Ports: 6750 our --web,
# 6751 QEMU's websocket=, 6752 QEMU's VNC.
# A run of both modes on both sides takes ~60 s (four Chromium starts of
# ~4 s each, 205 keys 30-46 ms apart, 1 + 5 s of animation). With RUNS=5
# the whole `make bench` takes about 13 minutes here (10 measured with 2
# browser runs).
BROWSER_RUNS=${BROWSER_RUNS:-$RUNS}
WEB_DIR=${WEB_DIR:-$(dirname "$VMM")/web}
WEB_A=6750
WS_B=6751
VNC_B_WEB=6752

# browser_why: why the browser scenario cannot run here (nothing if it can).
browser_why() {
	local help
	[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no chromium (make deps)"; return; }
	command -v node >/dev/null || { echo "no node (make deps)"; return; }
	[ -f "$WEB_DIR/index.html" ] || { echo "no console page in $WEB_DIR (make bins)"; return; }
	help=$("$VMM" --help 2>&1)
	grep -q -- '--web ' <<<"$help" || echo "$VMM has no --web"
}

# browser_pair TAG KEYS APPEND WAIT-FOR RUN-BROWSER-BENCH-ARGS...: pair()
# for the browser path, BROWSER_RUNS times A B; WAIT-FOR is the guest's
# ready line on the debug port.
browser_pair() {
	local tag=$1 keys=$2 append=$3 wait_for=$4
	local -a FRONT_A=(--vnc none --web "127.0.0.1:$WEB_A")
	local VNC_B="127.0.0.1:$((VNC_B_WEB - 5900)),websocket=$WS_B,lossy=on"
	local RUNNER=tests/bench/run-browser-bench.sh
	shift 4
	for i in $(seq "$BROWSER_RUNS"); do
		cmd_a "$append"
		bench A "$tag" "$keys" "$@" --url stderr \
			--wait-file @DBG@ --wait-for "$wait_for" -- "${A[@]}"
		if [ "$qemu_ok" = 1 ]; then
			cmd_b "$append"
			bench B "$tag" "$keys" "$@" --url "http://127.0.0.1:$WS_B/?path=" \
				--serve "$WEB_DIR" --wait-file @DBG@ --wait-for "$wait_for" -- "${B[@]}"
		fi
	done
}

if want browser; then
	why=$(browser_why)
	runs="$BROWSER_RUNS run$([ "$BROWSER_RUNS" = 1 ] || echo s) per side"
	[ "$BROWSER_RUNS" = "$RUNS" ] || runs="$runs, not $RUNS: ~60 s a run, and make bench has 15 minutes"
	section "7. browser path (our noVNC page in headless Chromium, Tight + JPEG quality 6; $runs)"
	if [ -n "$why" ]; then
		echo "side-by-side: browser: not measured: $why" >&2
		rows+=("| not measured: $why | | | |")
	else
		browser_pair blat "p50_ms p99_ms lost" "test=input w=640 h=400" "input ready" \
			--mode latency --keys 200
		browser_pair banim "fps canvas_fps cpu_pct cpu_ms_per_frame" \
			"test=vga-anim w=1024 h=768" "vga-anim ready" --mode anim --seconds 5 --warmup 1
		row "key press → canvas changed, p50 (ms; 200 keys a run, 640x400 echo screen)" blat_novnc_p50_ms
		row "key press → canvas changed, p99 (ms)" blat_novnc_p99_ms
		row "keys lost (no echo on the canvas within 2 s, of 200)" blat_novnc_lost
		row "1024x768 animation: updates noVNC drew per s" banim_novnc_fps
		row "1024x768 animation: page frames (rAF) in which the canvas changed, per s" banim_novnc_canvas_fps
		row "1024x768 animation: VMM CPU (%, all threads)" banim_novnc_cpu_pct
		row "1024x768 animation: VMM CPU ms per update drawn (all threads)" banim_novnc_cpu_ms_per_frame
	fi
fi

{
	echo "## Side by side with QEMU"
	echo
	echo "Our vmm (A): \`vmm --demo --memory 256M --cpus 1 --vnc ... --serial none\`."
	echo "QEMU $("$QEMU" --version 2>/dev/null | head -1 | sed 's/^QEMU emulator version //') (B):"
	echo "\`-enable-kvm -M pc -bios qboot.rom -nodefaults -m 256 -smp 1 -vga std -vnc ...,lossy=on\`,"
	echo "the same PVH ELF (\`-kernel build/builtin/guest.elf\`). The same client for both"
	echo "(tests/bench/vncbench, libvncclient, Tight = Tight + JPEG quality 8). $RUNS runs per"
	echo "side, alternating A B A B; median (min–max, n = runs that produced the figure)."
	echo "Ratio = A ÷ B (below 1: ours is smaller — better for times, CPU, bytes and memory;"
	echo "worse for updates/s and Mpixel/s)."
	if want browser; then
		echo "Section 7's client is our console page (noVNC) in headless Chromium"
		echo "(tests/bench/run-browser-bench.sh) instead: ours \`--vnc none --web ...\`, QEMU"
		echo "\`-vnc ...,websocket=...,lossy=on\` with the same page served by the driver."
	fi
	echo
	echo "| figure | our vmm (A) | QEMU -vnc (B) | A ÷ B |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} > "$OUT"
echo "side-by-side: wrote $OUT"
