// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the browser tests and the browser benchmark: waiting
 * for a condition with a deadline, the VMM's control socket, and comparing
 * the console page's canvas with the VMM's own screendump.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export async function until(what, fn, timeoutMs = 15000, everyMs = 50) {
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, everyMs));
	}
}

/* One JSON request on the VMM's --control socket, its one-line reply. */
export function control(sockPath, req) {
	return new Promise((resolve, reject) => {
		const s = net.createConnection(sockPath);
		let buf = '';
		s.on('data', (d) => {
			buf += d;
			const nl = buf.indexOf('\n');
			if (nl >= 0) {
				s.end();
				resolve(JSON.parse(buf.slice(0, nl)));
			}
		});
		s.on('error', reject);
		s.write(JSON.stringify(req) + '\n');
	});
}

/* The noVNC canvas's pixels vs. a PNG decoded by the browser. */
export async function compareWithPng(page, pngPath) {
	const png = fs.readFileSync(pngPath).toString('base64');
	return page.evaluate(async (b64) => {
		const canvas = document.querySelector('#screen canvas');
		const img = new Image();
		img.src = 'data:image/png;base64,' + b64;
		await img.decode();
		if (canvas.width !== img.width || canvas.height !== img.height)
			return { sizeMismatch: [canvas.width, canvas.height, img.width, img.height] };
		const ref = new OffscreenCanvas(img.width, img.height).getContext('2d');
		ref.drawImage(img, 0, 0);
		const a = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
		const b = ref.getImageData(0, 0, img.width, img.height).data;
		let sum = 0, bad = 0, nonBlack = 0;
		for (let i = 0; i < a.length; i += 4) {
			let d = 0;
			for (let c = 0; c < 3; c++)
				d = Math.max(d, Math.abs(a[i + c] - b[i + c]));
			sum += d;
			if (d > 48)
				bad++;
			if (b[i] + b[i + 1] + b[i + 2] > 60)
				nonBlack++;
		}
		const n = a.length / 4;
		return { w: canvas.width, h: canvas.height, mean: sum / n, badFrac: bad / n,
			 nonBlackFrac: nonBlack / n };
	}, png);
}

/* Until the canvas equals a fresh screendump (mean difference under 2 of
 * 255, under 0.1 % of pixels off by more than 48): the last comparison. */
export async function canvasMatchesScreendump(page, controlPath, tmpDir) {
	const pngPath = path.join(tmpDir, 'screendump.png');
	let last;
	try {
		await until('canvas == screendump', async () => {
			const r = await control(controlPath, { cmd: 'screendump', path: pngPath });
			if (!r.ok)
				throw new Error('screendump: ' + r.error);
			last = await compareWithPng(page, pngPath);
			return !last.sizeMismatch && last.mean < 2 && last.badFrac < 0.001;
		}, 15000, 200);
		return last;
	} catch (e) {
		throw new Error(`${e.message}: ${JSON.stringify(last)}`);
	}
}
