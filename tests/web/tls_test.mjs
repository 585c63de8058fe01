// SPDX-License-Identifier: MIT
/*
 * HTTPS/WSS in a real browser with the certificate really verified:
 * Debian's chromium, headless, with no flag or option that ignores
 * certificate errors. What it trusts comes from an NSS database in
 * $HOME/.pki/nssdb (made by test_web_tls_browser.sh with certutil).
 *
 *   node tls_test.mjs URL GOOD_HOME BAD_HOME CONTROL_SOCKET TMPDIR VMM_LOG
 *
 * GOOD_HOME trusts the CA that signed the VMM's certificate: the page
 * loads over https, its console connects over wss:// and the canvas equals
 * the VMM's screendump. BAD_HOME trusts another CA (same name, other key):
 * the page does not load (ERR_CERT_AUTHORITY_INVALID), a wss:// socket
 * opened from a page does not open, and the VMM gets no console client.
 */
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { canvasMatchesScreendump } from './screen.mjs';

const [URL_, GOOD_HOME, BAD_HOME, CONTROL, TMP, VMM_LOG] = process.argv.slice(2);
let fails = 0;
const ok = (m) => console.log(`ok ${m}`);
const fail = (m) => { fails++; console.log(`FAIL ${m}`); };
const check = (c, m) => (c ? ok(m) : fail(m));
const connectedLines = () => (fs.readFileSync(VMM_LOG, 'utf8')
	.match(/console client connected/g) || []).length;

function launch(home) {
	/* No ignoreHTTPSErrors, no --ignore-certificate-errors: chromium
	 * verifies against the NSS database in HOME. */
	return chromium.launch({
		executablePath: '/usr/bin/chromium',
		env: { ...process.env, HOME: home },
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		       '--disable-background-networking'],
	});
}

async function trusted() {
	const browser = await launch(GOOD_HOME);
	try {
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		const sockets = [];
		page.on('websocket', (ws) => sockets.push(ws.url()));
		const resp = await page.goto(URL_);
		check(resp.status() === 200 && page.url().startsWith('https://'),
		      `the page loads over https with the CA trusted: ${resp.status()}`);
		const sec = await resp.securityDetails();
		check(sec && /vmm console CA/.test(sec.issuer || ''),
		      `server certificate issued by ${sec && sec.issuer}, ${sec && sec.protocol}`);
		await page.waitForSelector('#status[data-state="connected"]', { timeout: 20000 });
		check(sockets.length > 0 && sockets.every((u) => u.startsWith('wss://')),
		      `the console connects through ${sockets.map((u) => u.replace(/token=.*/, 'token=...')).join(', ')}`);
		const cmp = await canvasMatchesScreendump(page, CONTROL, TMP);
		check(cmp.nonBlackFrac > 0.001, 'the screen is not blank');
		ok(`canvas ${cmp.w}x${cmp.h} over wss matches the VMM's screendump (mean diff ` +
		   `${cmp.mean.toFixed(3)}, ${(cmp.badFrac * 100).toFixed(3)} % pixels off)`);
	} finally {
		await browser.close();
	}
}

async function untrusted() {
	const before = connectedLines();
	const browser = await launch(BAD_HOME);
	try {
		const page = await browser.newPage();
		let err = '';
		try {
			await page.goto(URL_);
		} catch (e) {
			err = e.message.split('\n')[0].replace(/token=[^ ]*/, 'token=...');
		}
		check(/ERR_CERT_AUTHORITY_INVALID/.test(err),
		      `another CA trusted: the page does not load (${err || 'it loaded'})`);
		/* The WebSocket on its own, from a blank page: the TLS handshake
		 * fails, so it never opens (the Origin check would refuse it
		 * too, but only after TLS; the VMM's log shows neither). */
		const blank = await browser.newPage();
		const wsUrl = URL_.replace(/^https:/, 'wss:').replace(/\/\?/, '/websockify?');
		const r = await blank.evaluate((u) => new Promise((resolve) => {
			const ws = new WebSocket(u, ['binary']);
			ws.onopen = () => resolve('open');
			ws.onclose = (e) => resolve(`closed ${e.code}`);
			setTimeout(() => resolve('timeout'), 10000);
		}), wsUrl);
		check(r === 'closed 1006', `another CA trusted: a wss:// socket does not open (${r})`);
		check(connectedLines() === before, 'another CA trusted: the VMM got no console client');
	} finally {
		await browser.close();
	}
}

try {
	await trusted();
	await untrusted();
} catch (e) {
	fail(e.message);
}
console.log(`tls_test: ${fails} failed`);
process.exit(fails ? 1 : 0);
