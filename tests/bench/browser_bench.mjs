// SPDX-License-Identifier: MIT
/*
 * The browser path of `make bench` (issue 7, scenario 7): our console page
 * (web/, noVNC 1.7's RFB) in Debian's headless chromium, driven by
 * playwright-core, against any RFB-over-WebSocket target: our vmm's --web
 * port, or QEMU's `-vnc ...,websocket=PORT` with the same page served by
 * this script (--serve). Prints one machine-readable line per measurement,
 * in tests/bench/vncbench's format:
 *
 *   BENCH mode=browser-latency enc=novnc keys=200 echoed=200 lost=0 p50_ms=.. p99_ms=.. min_ms=.. max_ms=.. mean_ms=..
 *   BENCH mode=browser-anim enc=novnc w=1024 h=768 seconds=10.00 fps=.. canvas_fps=.. raf_hz=.. [cpu_pct=.. cpu_ms_per_frame=..]
 *
 *   node browser_bench.mjs --url URL --mode latency|anim [--serve DIR]
 *        [--keys N] [--seconds S] [--warmup S] [--pid PID --clk-tck HZ]
 *
 * --url: the console page. Ours: http://127.0.0.1:PORT/?token=TOKEN (as the
 *   vmm prints it). A bare WebSocket server (QEMU): any http://HOST:PORT/
 *   URL on that port together with --serve.
 * --serve DIR: answer every HTTP request to the URL's origin from DIR (the
 *   built page, build/web) inside the browser (playwright routing), and
 *   /api/session with {"viewOnly":false}; the page's WebSocket
 *   (ws://HOST:PORT/websockify?token=...) still goes to the real port. The
 *   page, its settings (Tight, JPEG quality 6, compression 2, as a user gets
 *   them) and the browser are thus the same for both targets. QEMU upgrades
 *   only "/" and refuses a query: give the page ?path= and no token
 *   (http://127.0.0.1:PORT/?path=).
 *
 * latency: the guest must echo keys on a text screen (built-in guest
 *   test=input). Per key: 30-46 ms idle, then key down + up through
 *   noVNC's sendKey (QEMU extended key events where offered), and the time
 *   until a frame noVNC draws into the visible canvas changes the picture
 *   outside the cursor's scanlines (rows 12-15 of each 16-line cell, so a
 *   blinking cursor is no echo). Frames are timed in the page by wrapping
 *   noVNC's Display.flip (the call that copies a finished update to the
 *   visible canvas): no polling quantum. 5 warm-up keys are not counted.
 * anim: the guest animates (test=vga-anim). Over --seconds after --warmup:
 *   fps = updates noVNC finished and drew (Display.flip), canvas_fps =
 *   animation frames (requestAnimationFrame) in which a sampled row of the
 *   canvas changed (capped by raf_hz, the page's display rate); with --pid
 *   the target process's CPU time over the same window.
 */
import { chromium } from '../web/node_modules/playwright-core/index.mjs';
import fs from 'node:fs';
import path from 'node:path';

function parseArgs(argv) {
	const o = { keys: 200, seconds: 10, warmup: 2, clkTck: 100 };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i], v = argv[i + 1];
		switch (a) {
		case '--url': o.url = v; i++; break;
		case '--mode': o.mode = v; i++; break;
		case '--serve': o.serve = v; i++; break;
		case '--keys': o.keys = +v; i++; break;
		case '--seconds': o.seconds = +v; i++; break;
		case '--warmup': o.warmup = +v; i++; break;
		case '--pid': o.pid = +v; i++; break;
		case '--clk-tck': o.clkTck = +v; i++; break;
		default:
			throw new Error(`unknown argument ${a}`);
		}
	}
	if (!o.url || !['latency', 'anim'].includes(o.mode))
		throw new Error('usage: browser_bench.mjs --url URL --mode latency|anim [--serve DIR] ' +
				'[--keys N] [--seconds S] [--warmup S] [--pid PID]');
	return o;
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
		'.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

/* The page from DIR for every request to the target's origin. */
async function serve(page, origin, dir) {
	const root = fs.realpathSync(dir);
	await page.route(`${origin}/**`, (route) => {
		const u = new URL(route.request().url());
		if (u.pathname === '/api/session')
			return route.fulfill({ contentType: 'application/json', body: '{"viewOnly":false}' });
		const rel = u.pathname === '/' ? 'index.html' : decodeURIComponent(u.pathname.slice(1));
		const file = path.resolve(root, rel);
		if (!file.startsWith(root + path.sep) || !fs.existsSync(file) ||
		    !fs.statSync(file).isFile())
			return route.fulfill({ status: 404, body: 'not found' });
		return route.fulfill({ contentType: TYPES[path.extname(file)] || 'application/octet-stream',
				       body: fs.readFileSync(file) });
	});
}

/* Wrap noVNC's Display.flip: count the updates that reach the visible
 * canvas and wake whoever waits for the next one. */
function hookFlips() {
	const d = window.vmmConsole.rfb._display;
	const orig = d.flip.bind(d);
	window.benchFlips = 0;
	window.benchWaiters = [];
	d.flip = (fromQueue) => {
		const drew = fromQueue || d._renderQ.length === 0;
		orig(fromQueue);
		if (!drew)
			return;
		window.benchFlips++;
		const t = performance.now();
		for (const w of window.benchWaiters.splice(0))
			w(t);
	};
}

async function latency(page, keys) {
	return page.evaluate(async (n) => {
		const rfb = window.vmmConsole.rfb;
		const canvas = document.querySelector('#screen canvas');
		const ctx = canvas.getContext('2d', { willReadFrequently: true });
		/* The picture outside each cell's scanlines 12-15 (cursor). */
		const snap = () => {
			const img = new Uint32Array(ctx.getImageData(0, 0, canvas.width,
								      canvas.height).data.buffer);
			const out = [];
			for (let y = 0; y < canvas.height; y++)
				if (y % 16 < 12)
					out.push(img.subarray(y * canvas.width, (y + 1) * canvas.width));
			return out;
		};
		const differs = (a, b) => {
			if (a.length !== b.length)
				return true;
			for (let r = 0; r < a.length; r++)
				for (let i = 0; i < a[r].length; i++)
					if (a[r][i] !== b[r][i])
						return true;
			return false;
		};
		const nextFlip = (ms) => new Promise((resolve) => {
			const w = (t) => { clearTimeout(timer); resolve(t); };
			const timer = setTimeout(() => {
				const i = window.benchWaiters.indexOf(w);
				if (i >= 0)
					window.benchWaiters.splice(i, 1);
				resolve(null);
			}, ms);
			window.benchWaiters.push(w);
		});
		const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
		const KEY_X = 0x78;
		const out = [];
		let lost = 0;
		for (let k = 0; k < n + 5; k++) {
			await sleep(30 + Math.random() * 16);
			const before = snap();
			const t0 = performance.now();
			rfb.sendKey(KEY_X, 'KeyX', true);
			rfb.sendKey(KEY_X, 'KeyX', false);
			let lat = null;
			while (performance.now() - t0 < 2000) {
				const t = await nextFlip(2000 - (performance.now() - t0));
				if (t === null)
					break;
				if (differs(before, snap())) {
					lat = t - t0;
					break;
				}
			}
			if (k < 5)
				continue;
			if (lat === null)
				lost++;
			else
				out.push(lat);
		}
		return { lat: out, lost };
	}, keys);
}

async function anim(page, seconds, warmup) {
	return page.evaluate(async ([s, w]) => {
		const canvas = document.querySelector('#screen canvas');
		const ctx = canvas.getContext('2d', { willReadFrequently: true });
		const row = () => ctx.getImageData(0, canvas.height >> 1, canvas.width, 1).data;
		await new Promise((r) => setTimeout(r, w * 1000));
		const f0 = window.benchFlips;
		const t0 = performance.now();
		let last = row(), changes = 0, ticks = 0, t = t0;
		while (t - t0 < s * 1000) {
			t = await new Promise((r) => requestAnimationFrame(r));
			ticks++;
			const cur = row();
			for (let i = 0; i < cur.length; i++) {
				if (cur[i] !== last[i]) {
					changes++;
					break;
				}
			}
			last = cur;
		}
		const el = (performance.now() - t0) / 1000;
		return { w: canvas.width, h: canvas.height, elapsed: el,
			 flips: window.benchFlips - f0, changes, ticks };
	}, [seconds, warmup]);
}

/* utime + stime of a process, in clock ticks. */
function cpuTicks(pid) {
	const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
	return +f[11] + +f[12];
}

const pct = (sorted, p) => sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)];
const f2 = (x) => x.toFixed(2);

async function main() {
	const o = parseArgs(process.argv.slice(2));
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		       '--disable-background-networking',
		       '--disable-background-timer-throttling',
		       '--disable-renderer-backgrounding',
		       /* A page answered by playwright (--serve) has no address
			* of its own: Chromium's Local Network Access checks
			* would block its WebSocket to the loopback target. */
		       '--disable-features=LocalNetworkAccessChecks'],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		if (o.serve)
			await serve(page, new URL(o.url).origin, o.serve);
		const resp = await page.goto(o.url);
		if (!resp || resp.status() !== 200)
			throw new Error(`page: HTTP ${resp && resp.status()}`);
		await page.waitForSelector('#status[data-state="connected"]', { timeout: 30000 });
		await page.evaluate(hookFlips);
		/* The guest's picture is there (it may have been drawn before
		 * the hook: a static screen sends no more updates). */
		await page.waitForFunction(() => {
			const c = document.querySelector('#screen canvas');
			if (!c || !c.width)
				return false;
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 0; i < d.length; i += 4)
				if (d[i] | d[i + 1] | d[i + 2])
					return true;
			return false;
		}, null, { timeout: 30000, polling: 100 });
		if (o.mode === 'latency') {
			const r = await latency(page, o.keys);
			const s = [...r.lat].sort((a, b) => a - b);
			if (!s.length)
				throw new Error(`no key changed the canvas (${r.lost} lost)`);
			const mean = s.reduce((a, b) => a + b, 0) / s.length;
			console.log(`BENCH mode=browser-latency enc=novnc keys=${o.keys} echoed=${s.length} ` +
				    `lost=${r.lost} p50_ms=${f2(pct(s, 50))} p99_ms=${f2(pct(s, 99))} ` +
				    `min_ms=${f2(s[0])} max_ms=${f2(s[s.length - 1])} mean_ms=${f2(mean)}`);
		} else {
			let c0 = 0, t0 = 0;
			const start = () => {
				if (o.pid) {
					c0 = cpuTicks(o.pid);
					t0 = performance.now();
				}
			};
			/* CPU over the same window: sample when the page starts
			 * counting (after its warm-up). */
			const timer = setTimeout(start, o.warmup * 1000);
			const r = await anim(page, o.seconds, o.warmup);
			clearTimeout(timer);
			let cpu = '';
			if (o.pid && t0) {
				const secs = (cpuTicks(o.pid) - c0) / o.clkTck;
				const wall = (performance.now() - t0) / 1000;
				cpu = ` cpu_pct=${f2(100 * secs / wall)}` +
					` cpu_ms_per_frame=${f2(r.flips ? 1000 * secs / r.flips : 0)}`;
			}
			console.log(`BENCH mode=browser-anim enc=novnc w=${r.w} h=${r.h} ` +
				    `seconds=${f2(r.elapsed)} fps=${f2(r.flips / r.elapsed)} ` +
				    `canvas_fps=${f2(r.changes / r.elapsed)} raf_hz=${f2(r.ticks / r.elapsed)}${cpu}`);
		}
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	/* Error texts may quote the URL: never print its token. */
	console.error(`browser_bench: ${e.message.split('\n')[0].replace(/token=[^ &]*/g, 'token=...')}`);
	process.exit(1);
});
