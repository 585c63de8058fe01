// SPDX-License-Identifier: MIT
/*
 * The vmm console page: noVNC's RFB module over the VMM's own WebSocket
 * endpoint (/websockify, subprotocol "binary"), plus what people expect
 * of a VM console: scale or resize, full screen, Ctrl-Alt-Del and other
 * key combinations, typing text into the guest, view-only, a visible
 * connection state and reconnecting with backoff.
 *
 * The access token comes from this page's URL (?token=...) and goes on
 * the WebSocket URL; the server checks it on both. Whether the token is
 * view-only comes from /api/session.
 *
 * noVNC's ES modules are copied next to this file at build time
 * (websocket/websocket.mk): build/web/novnc/core, build/web/novnc/vendor.
 */
import RFB from './novnc/core/rfb.js';
import KeyTable from './novnc/core/input/keysym.js';
import keysyms from './novnc/core/input/keysymdef.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(window.location.search);
const token = params.get('token') || '';
/* The WebSocket path on this page's host, as noVNC's own page takes it
 * (?path=): "websockify" (ours) unless given, e.g. empty for a server that
 * upgrades only "/" (QEMU's websocket= port, with the page served by
 * something else: tests/bench/browser_bench.mjs). Path characters only. */
const wsPath = params.has('path') && /^[A-Za-z0-9._~\/-]*$/.test(params.get('path')) ?
	params.get('path').replace(/^\/+/, '') : 'websockify';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
/* Gap between typed characters: the guest's PS/2 controller holds only a
 * few dozen bytes, so typing must not outrun the guest's driver. */
const TYPE_GAP_MS = 12;

const state = {
	rfb: null,
	status: 'connecting',
	forcedViewOnly: false,
	backoff: BACKOFF_MIN_MS,
	retryTimer: null,
	connects: 0,
	typing: false,
};

function setStatus(s, text) {
	state.status = s;
	const el = $('status');
	el.dataset.state = s;
	el.textContent = text || s;
}

/* --- keys -------------------------------------------------------------- */

const K = KeyTable;
/* [keysym, KeyboardEvent.code] pairs: with the code the server gets the
 * exact scancode (QEMU Extended Key Event), without it only the keysym. */
const MOD = {
	ctrl: [K.XK_Control_L, 'ControlLeft'],
	alt: [K.XK_Alt_L, 'AltLeft'],
	shift: [K.XK_Shift_L, 'ShiftLeft'],
	super: [K.XK_Super_L, 'MetaLeft'],
};
const fkey = (n) => [K.XK_F1 + n - 1, 'F' + n];
const COMBOS = {
	'ctrl-alt-backspace': [MOD.ctrl, MOD.alt, [K.XK_BackSpace, 'Backspace']],
	'esc': [[K.XK_Escape, 'Escape']],
	'tab': [[K.XK_Tab, 'Tab']],
	'print': [[K.XK_Print, 'PrintScreen']],
	'alt-tab': [MOD.alt, [K.XK_Tab, 'Tab']],
	'super': [MOD.super],
};
for (let n = 1; n <= 7; n++)
	COMBOS['ctrl-alt-f' + n] = [MOD.ctrl, MOD.alt, fkey(n)];

function sendCombo(keys) {
	const rfb = state.rfb;
	if (!rfb || state.status !== 'connected')
		return;
	for (const [sym, code] of keys)
		rfb.sendKey(sym, code, true);
	for (const [sym, code] of [...keys].reverse())
		rfb.sendKey(sym, code, false);
}

/* Characters a US layout types with Shift held. */
const SHIFTED = '~!@#$%^&*()_+{}|:"<>?';

function charKeysym(ch) {
	if (ch === '\n' || ch === '\r')
		return K.XK_Return;
	if (ch === '\t')
		return K.XK_Tab;
	return keysyms.lookup(ch.codePointAt(0));
}

function needsShift(ch) {
	return (ch >= 'A' && ch <= 'Z') || SHIFTED.includes(ch);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Type text into the guest key by key; resolves with the count typed. */
async function typeText(text, gapMs = TYPE_GAP_MS) {
	let typed = 0;
	if (state.typing)
		throw new Error('already typing');
	state.typing = true;
	try {
		const chars = Array.from(text.replace(/\r\n/g, '\n'));
		for (const ch of chars) {
			const rfb = state.rfb;
			if (!rfb || state.status !== 'connected' || rfb.viewOnly)
				break;
			const sym = charKeysym(ch);
			if (!sym)
				continue;
			const shift = needsShift(ch);
			if (shift)
				rfb.sendKey(MOD.shift[0], null, true);
			rfb.sendKey(sym, null, true);
			rfb.sendKey(sym, null, false);
			if (shift)
				rfb.sendKey(MOD.shift[0], null, false);
			typed++;
			await sleep(gapMs);
		}
	} finally {
		state.typing = false;
	}
	return typed;
}

/* --- view ------------------------------------------------------------- */

function applyScale() {
	const rfb = state.rfb;
	if (!rfb)
		return;
	const mode = $('scale').value;
	const canResize = !!(rfb.capabilities && rfb.capabilities.resize);
	rfb.resizeSession = mode === 'remote' && canResize;
	rfb.scaleViewport = mode === 'scale' || (mode === 'remote' && !canResize);
	rfb.clipViewport = false;
}

function applyViewOnly() {
	const box = $('viewonly');
	if (state.forcedViewOnly) {
		box.checked = true;
		box.disabled = true;
	}
	if (state.rfb)
		state.rfb.viewOnly = box.checked;
	for (const id of ['cad', 'sendkey', 'paste'])
		$(id).disabled = box.checked;
}

/* --- connection -------------------------------------------------------- */

async function fetchSession() {
	const r = await fetch('/api/session?token=' + encodeURIComponent(token),
			      { cache: 'no-store' });
	if (r.status === 403)
		return null;
	if (!r.ok)
		throw new Error('session: HTTP ' + r.status);
	return r.json();
}

function scheduleReconnect() {
	if (state.retryTimer)
		return;
	const wait = state.backoff;
	state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
	setStatus('reconnecting', `disconnected; retrying in ${Math.round(wait / 1000)} s`);
	state.retryTimer = setTimeout(() => {
		state.retryTimer = null;
		start();
	}, wait);
}

function connect() {
	const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
	/* No token, no query: a plain WebSocket server may refuse one. */
	const url = `${scheme}//${window.location.host}/${wsPath}` +
		(token ? '?token=' + encodeURIComponent(token) : '');
	const rfb = new RFB($('screen'), url, { wsProtocols: ['binary'] });

	state.rfb = rfb;
	rfb.focusOnClick = true;
	rfb.qualityLevel = 6;
	rfb.compressionLevel = 2;
	applyScale();
	applyViewOnly();
	rfb.addEventListener('connect', () => {
		state.connects++;
		state.backoff = BACKOFF_MIN_MS;
		setStatus('connected');
		applyScale();
		rfb.focus();
	});
	rfb.addEventListener('disconnect', (e) => {
		if (state.rfb === rfb)
			state.rfb = null;
		if (e.detail.clean && state.status === 'failed')
			return;
		scheduleReconnect();
	});
	rfb.addEventListener('credentialsrequired', () => {
		const dlg = $('pwdlg');
		dlg.onclose = () => {
			rfb.sendCredentials({ password: $('password').value });
			$('password').value = '';
		};
		dlg.showModal();
	});
	rfb.addEventListener('securityfailure', (e) => {
		setStatus('failed', 'authentication failed: ' +
			  (e.detail.reason || 'refused'));
	});
	rfb.addEventListener('desktopname', (e) => {
		$('name').textContent = e.detail.name;
	});
	rfb.addEventListener('capabilities', applyScale);
}

async function start() {
	setStatus(state.connects ? 'reconnecting' : 'connecting',
		  state.connects ? 'reconnecting' : 'connecting');
	let session;
	try {
		session = await fetchSession();
	} catch (err) {
		scheduleReconnect();    /* the VMM may be restarting */
		return;
	}
	if (!session) {
		setStatus('failed', 'access denied: the token is invalid or expired');
		return;
	}
	state.forcedViewOnly = !!session.viewOnly;
	connect();
}

/* --- wiring ------------------------------------------------------------ */

function wire() {
	$('cad').addEventListener('click', () => {
		if (state.rfb && state.status === 'connected')
			state.rfb.sendCtrlAltDel();
	});
	$('sendkey').addEventListener('change', (e) => {
		const combo = COMBOS[e.target.value];
		e.target.value = '';
		if (combo)
			sendCombo(combo);
		if (state.rfb)
			state.rfb.focus();
	});
	$('paste').addEventListener('click', () => {
		$('pastedlg').showModal();
		$('pastetext').focus();
	});
	$('pastedlg').addEventListener('close', () => {
		const text = $('pastetext').value;
		if ($('pastedlg').returnValue === 'type' && text)
			typeText(text).catch(() => {});
		if (state.rfb)
			state.rfb.focus();
	});
	$('scale').addEventListener('change', applyScale);
	$('viewonly').addEventListener('change', applyViewOnly);
	$('fullscreen').addEventListener('click', () => {
		if (document.fullscreenElement)
			document.exitFullscreen();
		else
			document.documentElement.requestFullscreen().catch(() => {});
	});
	document.addEventListener('fullscreenchange', () => {
		document.body.classList.toggle('fullscreen', !!document.fullscreenElement);
	});
	window.addEventListener('online', () => {
		if (state.retryTimer) {
			clearTimeout(state.retryTimer);
			state.retryTimer = null;
			start();
		}
	});
}

/* For tests and for people scripting the page from the dev tools. */
window.vmmConsole = {
	get rfb() { return state.rfb; },
	get status() { return state.status; },
	get connects() { return state.connects; },
	typeText,
	sendCombo: (name) => sendCombo(COMBOS[name]),
};

wire();
start();
