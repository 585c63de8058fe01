// SPDX-License-Identifier: MIT
/*
 * The web console in a real browser: Debian's chromium, headless, driven
 * by playwright-core (which never downloads a browser), against
 * `vmm --demo --append test=input --web ...`, whose guest reports every
 * keyboard byte on the debug port ("KBD 1e 'a'").
 *
 *   node console_test.mjs BASE_URL TOKEN VIEW_TOKEN EXPIRED_TOKEN DEBUGCON CONTROL_SOCKET TMPDIR
 *
 * Checks: the page loads and connects; the canvas shows what the VMM's own
 * screendump shows; keys typed in the page reach the guest; the
 * Ctrl-Alt-Del button delivers Ctrl, Alt and Delete; paste-as-keystrokes
 * types a 200-character string exactly; a view-only token connects but
 * its input never reaches the guest; missing, wrong and expired tokens get
 * 403. Also measures key-press-to-canvas-change latency.
 */
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { until, canvasMatchesScreendump } from './screen.mjs';

const [BASE, TOKEN, VIEW, EXPIRED, DEBUGCON, CONTROL, TMP] = process.argv.slice(2);
let fails = 0;
const ok = (m) => console.log(`ok ${m}`);
const fail = (m) => { fails++; console.log(`FAIL ${m}`); };
const check = (c, m) => (c ? ok(m) : fail(m));

/* --- the guest's report ------------------------------------------------ */

const dbgText = () => fs.readFileSync(DEBUGCON, 'latin1');
const dbgOffset = () => dbgText().length;
const kbdLines = (from) => dbgText().slice(from).split('\n')
	.filter((l) => l.startsWith('KBD '));
/* Characters the guest echoed (make codes of printable keys). */
const typed = (from) => kbdLines(from).map((l) => {
	const m = /^KBD [0-9a-f]{2} '(.)'$/.exec(l);
	return m ? m[1] : '';
}).join('');

/* --- the page ---------------------------------------------------------- */

async function openConsole(browser, token) {
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	const resp = await page.goto(`${BASE}/?token=${token}`);
	return { page, resp, errors };
}

const waitConnected = (page) => page.waitForSelector('#status[data-state="connected"]',
							{ timeout: 20000 });

/* Key press to canvas change, measured inside the page: a key that echoes
 * on the guest's text screen, and the first animation frame whose canvas
 * differs. */
async function measureLatency(page, samples) {
	return page.evaluate(async (n) => {
		const canvas = document.querySelector('#screen canvas');
		const ctx = canvas.getContext('2d');
		const snap = () => ctx.getImageData(0, 0, canvas.width, canvas.height).data;
		const same = (x, y) => {
			for (let i = 0; i < x.length; i += 4)
				if (x[i] !== y[i] || x[i + 1] !== y[i + 1] || x[i + 2] !== y[i + 2])
					return false;
			return true;
		};
		const rfb = window.vmmConsole.rfb;
		const out = [];
		const KEY_X = 0x78; /* 'x' */
		for (let k = 0; k < n; k++) {
			await new Promise((r) => setTimeout(r, 30));
			const before = snap();
			const t0 = performance.now();
			rfb.sendKey(KEY_X, 'KeyX', true);
			rfb.sendKey(KEY_X, 'KeyX', false);
			let t1 = null;
			while (performance.now() - t0 < 2000) {
				await new Promise((r) => requestAnimationFrame(r));
				if (!same(before, snap())) {
					t1 = performance.now();
					break;
				}
			}
			if (t1 !== null)
				out.push(t1 - t0);
		}
		return out;
	}, samples);
}

const pct = (v, p) => {
	const s = [...v].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))];
};

async function main() {
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		       '--disable-background-networking'],
	});
	try {
		/* Refusals first: no token, wrong token, expired token. */
		for (const [name, tok] of [['missing', ''], ['wrong', 'C'.repeat(32)],
					   ['expired', EXPIRED]]) {
			const p = await browser.newPage();
			const r = await p.goto(`${BASE}/?token=${tok}`);
			check(r.status() === 403, `page with a ${name} token: ${r.status()} (want 403)`);
			await p.close();
		}

		const { page, resp, errors } = await openConsole(browser, TOKEN);
		check(resp.status() === 200, `page loads: ${resp.status()}`);
		await waitConnected(page);
		ok('the console connects (status "connected")');

		const cmp = await canvasMatchesScreendump(page, CONTROL, TMP);
		check(cmp.nonBlackFrac > 0.001,
		      `the screen is not blank (${(cmp.nonBlackFrac * 100).toFixed(2)} % lit)`);
		ok(`canvas ${cmp.w}x${cmp.h} matches the VMM's screendump (mean diff ${cmp.mean.toFixed(3)}, ` +
		   `${(cmp.badFrac * 100).toFixed(3)} % pixels off)`);
		await page.screenshot({ path: path.join(TMP, 'page.png') });

		/* Keys typed in the page. */
		let off = dbgOffset();
		await page.click('#screen canvas');
		/* keyboard.type() sends 'W' without a Shift key event; a real
		 * keyboard (and press('Shift+KeyW')) holds Shift. */
		await page.keyboard.type('hello ');
		await page.keyboard.press('Shift+KeyW');
		await page.keyboard.type('orld 42');
		await until('typed keys in the guest', () => typed(off) === 'hello World 42');
		ok('keys typed in the page reach the guest: "hello World 42"');

		/* Ctrl-Alt-Del button: Ctrl, Alt, Delete (E0 53) down, then up. */
		off = dbgOffset();
		await page.click('#cad');
		const want = ['KBD 1d', 'KBD 38', 'KBD e0', 'KBD 53', 'KBD e0', 'KBD d3', 'KBD b8', 'KBD 9d'];
		await until('Ctrl-Alt-Del', () => {
			/* A break code of the keys before may still arrive first. */
			const all = kbdLines(off).map((l) => l.slice(0, 6));
			const got = all.slice(Math.max(0, all.indexOf('KBD 1d')));
			return got.length >= want.length && want.every((w, i) => got[i] === w);
		}).catch((e) => { throw new Error(`${e.message}: ${kbdLines(off).join(' | ')}`); });
		ok('Ctrl-Alt-Del button: 1d 38 e0 53 / e0 d3 b8 9d');

		/* Send-key menu: Ctrl-Alt-F2 (F2 is 3c). */
		off = dbgOffset();
		await page.selectOption('#sendkey', 'ctrl-alt-f2');
		await until('Ctrl-Alt-F2', () => kbdLines(off).map((l) => l.slice(0, 6)).join(' ')
			.includes('KBD 1d KBD 38 KBD 3c'));
		ok('send-key menu: Ctrl-Alt-F2');

		/* Paste as keystrokes: 200 characters with and without Shift. */
		const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789' +
			' `~!@#$%^&*()-_=+[]{}\\|;:\'",.<>/?';
		let text = '';
		for (let i = 0; text.length < 200; i++)
			text += alphabet[(i * 7 + 3) % alphabet.length];
		off = dbgOffset();
		await page.click('#paste');
		await page.fill('#pastetext', text);
		const t0 = Date.now();
		await page.click('#pastego');
		await until('200 pasted characters', () => typed(off).length >= 200, 60000, 100)
			.catch((e) => { throw new Error(`${e.message}: got ${typed(off).length}`); });
		const got = typed(off);
		check(got === text, `paste as keystrokes: 200 characters typed exactly in ${Date.now() - t0} ms` +
		      (got === text ? '' : `\n    want ${JSON.stringify(text)}\n    got  ${JSON.stringify(got)}`));

		/* Latency: key event sent to the canvas showing the echo. */
		await page.click('#screen canvas');
		const lat = await measureLatency(page, 60);
		if (lat.length >= 50)
			ok(`key-to-canvas latency over ${lat.length} keys: p50 ${pct(lat, 50).toFixed(1)} ms, ` +
			   `p99 ${pct(lat, 99).toFixed(1)} ms`);
		else
			fail(`key-to-canvas latency: only ${lat.length} of 60 keys changed the canvas`);
		fs.writeFileSync(path.join(TMP, 'latency.json'), JSON.stringify(lat));

		/* View-only token: connects, the page forces view-only, and even
		 * a page script that turns it off cannot type. */
		const vo = await openConsole(browser, VIEW);
		check(vo.resp.status() === 200, `view-only page loads: ${vo.resp.status()}`);
		await waitConnected(vo.page);
		const forced = await vo.page.evaluate(() => {
			const b = document.getElementById('viewonly');
			return b.checked && b.disabled && window.vmmConsole.rfb.viewOnly;
		});
		check(forced, 'view-only token: the page forces view-only');
		off = dbgOffset();
		await vo.page.evaluate(() => {
			const rfb = window.vmmConsole.rfb;
			rfb.viewOnly = false;          /* a hostile page script */
			rfb.sendKey(0x71, 'KeyQ', true);
			rfb.sendKey(0x71, 'KeyQ', false);
			rfb.sendCtrlAltDel();
		});
		await vo.page.click('#screen canvas');
		await vo.page.keyboard.type('qqq');
		/* Then a marker from the full-access page: once it has arrived,
		 * anything the view-only client sent earlier would have too. */
		await page.evaluate(() => window.vmmConsole.typeText('m'));
		await until('the marker', () => typed(off).includes('m'));
		/* q is 10, Ctrl 1d, Alt 38, Delete e0 53; the marker m is 32. */
		const leaked = kbdLines(off).filter((l) => /^KBD (10|1d|38|53|90|9d|b8|d3)\b/.test(l));
		check(typed(off) === 'm' && leaked.length === 0,
		      `view-only input never reaches the guest (${kbdLines(off).join(' | ')})`);
		await vo.page.close();

		/* Reconnect: the page comes back by itself after its socket drops.
		 * The VMM closes a client whose token expires, the simplest drop
		 * to cause from here is closing the socket from the page. */
		const before = await page.evaluate(() => window.vmmConsole.connects);
		await page.evaluate(() => window.vmmConsole.rfb._sock._websocket.close());
		await page.waitForFunction((n) => window.vmmConsole.connects > n &&
			window.vmmConsole.status === 'connected', before, { timeout: 20000 });
		ok('the page reconnects by itself after the connection drops');

		check(errors.length === 0, `no page errors${errors.length ? ': ' + errors.join('; ') : ''}`);
		await page.close();
	} catch (e) {
		fail(e.message);
	} finally {
		await browser.close();
	}
	console.log(`console_test: ${fails} failed`);
	process.exit(fails ? 1 : 0);
}

main();
