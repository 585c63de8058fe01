// SPDX-License-Identifier: MIT
/*
 * Type a line into a Linux guest through the web console: Debian's
 * chromium, headless, driven by playwright-core, opens the console page of
 * a vmm running Debian's kernel (the Linux tier: the vmm runs inside the
 * L1 machine, its web port forwarded to this host by QEMU user networking,
 * see tests/linux/run-l1.sh), clicks the screen and types TEXT followed by
 * Return with real key presses: Shift is held for capitals and shifted
 * symbols, as a person's keyboard does. Whether the line reached the guest
 * is checked on the guest's serial console, by the script in L1 that asked
 * for the typing (tests/linux/test_linux_web.sh).
 *
 *   node linux_typing.mjs BASE_URL TOKEN_FILE TEXT [SCREENSHOT.png]
 *
 * TOKEN_FILE: a --web-token-file; its first token is used (the token
 * never goes on a command line). Checks here: the page loads (200) and
 * connects, the canvas shows a non-blank screen, and it changes after the
 * typing (the guest's VT echoes the line). Prints ok/FAIL lines; exits 1
 * on any failure. SCREENSHOT: the page after typing (kept for a failure
 * report).
 */
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { until } from './screen.mjs';

const [BASE, TOKEN_FILE, TEXT, SHOT] = process.argv.slice(2);
/* Under the L1 machine's TCG everything is slow: generous deadlines. */
const CONNECT_MS = 90000;
const ECHO_MS = 60000;
/* Between key events: the L2 guest's keyboard driver runs under nested
 * virtualisation in TCG; the same gap as vnctype -d 20 in the VNC test. */
const KEY_GAP_MS = 20;

let fails = 0;
const ok = (m) => console.log(`ok ${m}`);
const fail = (m) => { fails++; console.log(`FAIL ${m}`); };

/* US layout: the unshifted key of each shifted symbol (KeyboardEvent.code). */
const SHIFTED = {
	'~': 'Backquote', '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', '$': 'Digit4',
	'%': 'Digit5', '^': 'Digit6', '&': 'Digit7', '*': 'Digit8', '(': 'Digit9',
	')': 'Digit0', '_': 'Minus', '+': 'Equal', '{': 'BracketLeft',
	'}': 'BracketRight', '|': 'Backslash', ':': 'Semicolon', '"': 'Quote',
	'<': 'Comma', '>': 'Period', '?': 'Slash',
};

/* One character as a person types it: Shift held for capitals and the
 * shifted symbols (playwright's keyboard.type() would send them without a
 * Shift key event). */
async function typeChar(page, ch) {
	if (ch >= 'A' && ch <= 'Z')
		await page.keyboard.press(`Shift+Key${ch}`);
	else if (SHIFTED[ch])
		await page.keyboard.press(`Shift+${SHIFTED[ch]}`);
	else
		await page.keyboard.type(ch);
	await new Promise((r) => setTimeout(r, KEY_GAP_MS));
}

function readToken(file) {
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		const t = line.trim().split(/\s+/)[0];
		if (t && !t.startsWith('#'))
			return t;
	}
	throw new Error(`no token in ${file}`);
}

/* The canvas's pixels as a digest the page computes: a hash and the share
 * of lit pixels (0 while nothing has been drawn). */
const canvasState = (page) => page.evaluate(() => {
	const c = document.querySelector('#screen canvas');
	if (!c || !c.width || !c.height)
		return { hash: 0, lit: 0 };
	const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	let h = 2166136261, lit = 0;
	for (let i = 0; i < d.length; i += 4) {
		h = Math.imul(h ^ (d[i] | d[i + 1] << 8 | d[i + 2] << 16), 16777619) >>> 0;
		if (d[i] + d[i + 1] + d[i + 2] > 60)
			lit++;
	}
	return { hash: h, lit: lit / (d.length / 4), w: c.width, h: c.height };
});

async function main() {
	if (!BASE || !TOKEN_FILE || TEXT === undefined) {
		console.log('FAIL usage: linux_typing.mjs BASE_URL TOKEN_FILE TEXT [SCREENSHOT]');
		process.exit(2);
	}
	const token = readToken(TOKEN_FILE);
	const browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		       '--disable-background-networking'],
	});
	let page;
	try {
		page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		const errors = [];
		page.on('pageerror', (e) => errors.push(String(e)));
		const t0 = Date.now();
		const resp = await page.goto(`${BASE}/?token=${token}`, { timeout: CONNECT_MS });
		if (resp.status() !== 200)
			throw new Error(`the console page answered ${resp.status()}, not 200`);
		ok(`the console page loads (200 in ${Date.now() - t0} ms)`);
		await page.waitForSelector('#status[data-state="connected"]', { timeout: CONNECT_MS });
		ok(`the console connects (${Date.now() - t0} ms after the request)`);

		const before = await until('a non-blank screen on the canvas', async () => {
			const s = await canvasState(page);
			return s.lit > 0.001 ? s : null;
		}, CONNECT_MS, 200);
		ok(`the canvas shows the guest's screen (${before.w}x${before.h}, ` +
		   `${(before.lit * 100).toFixed(2)} % lit)`);

		await page.click('#screen canvas');
		const t1 = Date.now();
		for (const ch of TEXT)
			await typeChar(page, ch);
		await page.keyboard.press('Enter');
		ok(`typed ${JSON.stringify(TEXT)} and Return in ${Date.now() - t1} ms`);

		await until('the canvas to change after typing', async () =>
			(await canvasState(page)).hash !== before.hash, ECHO_MS, 200);
		ok('the screen changed after typing (the guest echoed)');
		if (errors.length)
			fail(`page errors: ${errors.join('; ')}`);
	} catch (e) {
		fail(e.message);
	} finally {
		if (page && SHOT)
			await page.screenshot({ path: SHOT }).catch(() => {});
		await browser.close();
	}
	process.exit(fails ? 1 : 0);
}

main();
