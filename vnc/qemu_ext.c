// SPDX-License-Identifier: MIT
/*
 * QEMU's VNC protocol extensions, which libvncserver 0.9.14 lacks, as one
 * rfbProtocolExtension:
 *
 *  - Extended Key Event (pseudo-encoding -258). A client that lists it gets
 *    an acknowledgement (a FramebufferUpdate with one rectangle of encoding
 *    -258) and may then send client message 255, subtype 0: down-flag (U16),
 *    keysym (U32), XT keycode (U32; keys sent with an 0xE0 prefix have bit 7
 *    set, e.g. Right Ctrl 0x9D). The keycode goes to the guest as it is,
 *    whatever the client's keyboard layout; 0 means "no keycode" and the
 *    keysym is used.
 *  - LED state (pseudo-encoding -261): a FramebufferUpdate with one 1x1
 *    rectangle of encoding -261 and one byte (bit 0 Scroll, 1 Num, 2 Caps
 *    Lock: the same bits as enum input_led) when the client asks and then
 *    whenever the guest's keyboard LEDs change.
 *
 * libvncserver registers extensions process-wide; the server is found
 * through cl->screen->screenData and our client record through
 * cl->clientData.
 */
#include <poll.h>
#include <string.h>

#include "display/input.h"
#include "display/keymap.h"
#include "vmm/log.h"
#include "vnc/vnc_int.h"

#define ENC_EXT_KEY_EVENT ((int)0xFFFFFEFE) /* -258 */
#define ENC_LED_STATE ((int)0xFFFFFEFB)     /* -261 */
#define MSG_QEMU 255
#define QEMU_EXT_KEY_EVENT 0
/* QEMU's keycode for Pause (E0 46, the make code of Ctrl+Break). */
#define QEMU_XT_PAUSE 0xC6

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A FramebufferUpdate with one rectangle header; returns its length. */
static int fbu_header(uint8_t *buf, int x, int y, int w, int h, int enc)
{
	buf[0] = rfbFramebufferUpdate;
	buf[1] = 0;
	put16(buf + 2, 1);
	put16(buf + 4, (unsigned)x);
	put16(buf + 6, (unsigned)y);
	put16(buf + 8, (unsigned)w);
	put16(buf + 10, (unsigned)h);
	put32(buf + 12, (uint32_t)enc);
	return 16;
}

/* Caller holds cl->sendMutex. */
static void send_leds_locked(rfbClientPtr cl, unsigned leds)
{
	uint8_t buf[17];
	int n = fbu_header(buf, 0, 0, 1, 1, ENC_LED_STATE);

	buf[n++] = (uint8_t)(leds & 7);
	rfbWriteExact(cl, (const char *)buf, n);
}

static rfbBool ext_enable(rfbClientPtr cl, void **data, int enc)
{
	struct vnc_client *vc = cl->clientData;
	uint8_t buf[16];

	if (!vc)
		return FALSE;
	*data = vc;
	if (enc == ENC_EXT_KEY_EVENT) {
		/* Acknowledge once per SetEncodings, as QEMU does. */
		vc->want_ext_key = true;
		fbu_header(buf, 0, 0, cl->screen->width, cl->screen->height,
			   ENC_EXT_KEY_EVENT);
		pthread_mutex_lock(&cl->sendMutex);
		rfbWriteExact(cl, (const char *)buf, sizeof(buf));
		pthread_mutex_unlock(&cl->sendMutex);
		atomic_store(&vc->ext_key_reacks, 2);
		return TRUE;
	}
	if (enc == ENC_LED_STATE) {
		unsigned leds;

		/*
		 * Read the state under sendMutex, after want_leds is set:
		 * a change racing with this either is read here, or finds
		 * want_leds set in vnc_qemu_ext_try_send_leds() and is sent
		 * after this one. Read before the lock, an older state could
		 * follow the update thread's newer one and stay.
		 */
		pthread_mutex_lock(&cl->sendMutex);
		vc->want_leds = true;
		leds = console_input_leds(vc->srv->con);
		send_leds_locked(cl, leds);
		vc->leds_sent = (int)leds;
		pthread_mutex_unlock(&cl->sendMutex);
		return TRUE;
	}
	return FALSE;
}

static rfbBool ext_message(rfbClientPtr cl, void *data,
			   const rfbClientToServerMsg *msg)
{
	struct vnc_client *vc = data;
	uint8_t b[11];
	unsigned down, xt;
	uint32_t keysym;

	if (msg->type != MSG_QEMU)
		return FALSE;
	if (rfbReadExact(cl, (char *)b, 1) <= 0) {
		rfbCloseClient(cl);
		return TRUE;
	}
	if (b[0] != QEMU_EXT_KEY_EVENT) {
		/* Other QEMU subtypes (audio) have lengths we do not know. */
		log_ratelimited(LOG_INFO, "vnc: %s: unsupported QEMU message %u, closing",
				cl->host, b[0]);
		rfbCloseClient(cl);
		return TRUE;
	}
	if (rfbReadExact(cl, (char *)b + 1, 10) <= 0) {
		rfbCloseClient(cl);
		return TRUE;
	}
	if (cl->viewOnly || !vc)
		return TRUE;
	down = (unsigned)b[1] << 8 | b[2];
	keysym = get32(b + 3);
	xt = get32(b + 7);
	if (xt == QEMU_XT_PAUSE)
		xt = INPUT_KEY_PAUSE;
	else if (!xt)
		xt = keymap_keysym_to_xt(keysym);
	else if (xt > 0xFF) {
		log_ratelimited(LOG_INFO, "vnc: %s: ignoring keycode 0x%x",
				cl->host, xt);
		return TRUE;
	}
	if (xt)
		console_input_key(vc->srv->con, xt, down != 0);
	return TRUE;
}

static int ext_encodings[] = { ENC_EXT_KEY_EVENT, ENC_LED_STATE, 0 };

static rfbProtocolExtension qemu_ext = {
	.pseudoEncodings = ext_encodings,
	.enablePseudoEncoding = ext_enable,
	.handleMessage = ext_message,
};

/*
 * libvncserver's displayFinishedHook: called by a client's output thread
 * right after it sent a framebuffer update, with cl->sendMutex held.
 *
 * libvncserver answers the SupportedMessages pseudo-encoding in the first
 * update after SetEncodings, and its list lacks QEMU's message 255: clients
 * built on libvncclient then overwrite the "server takes extended key
 * events" flag our acknowledgement set, and stop sending them. So repeat the
 * acknowledgement after the updates that follow SupportedMessages (twice, so
 * an update already on its way while SetEncodings was read does not count).
 */
void vnc_qemu_ext_update_sent(rfbClientPtr cl, int result)
{
	struct vnc_client *vc = cl->clientData;
	uint8_t buf[16];

	if (!vc || !result || cl->enableSupportedMessages)
		return;
	if (atomic_load(&vc->ext_key_reacks) <= 0)
		return;
	atomic_fetch_sub(&vc->ext_key_reacks, 1);
	fbu_header(buf, 0, 0, cl->screen->width, cl->screen->height,
		   ENC_EXT_KEY_EVENT);
	rfbWriteExact(cl, (const char *)buf, sizeof(buf));
}

static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static void do_register(void)
{
	rfbRegisterProtocolExtension(&qemu_ext);
}

void vnc_qemu_ext_register(void)
{
	pthread_once(&register_once, do_register);
}

/*
 * From the update thread, with clients_lock held: never block on a client
 * that is stuck mid-update or not reading (it would stall every viewer's
 * frames): skip it for now and let the caller retry. Returns false to retry.
 */
bool vnc_qemu_ext_try_send_leds(struct vnc_client *vc, unsigned leds)
{
	rfbClientPtr cl = vc->cl;
	struct pollfd pfd = { .fd = vc->shut_fd, .events = POLLOUT };

	if (pthread_mutex_trylock(&cl->sendMutex))
		return false;
	/* want_leds and leds_sent are written under sendMutex too. */
	if (!vc->want_leds || vc->leds_sent == (int)leds ||
	    cl->sock == RFB_INVALID_SOCKET) {
		pthread_mutex_unlock(&cl->sendMutex);
		return true;
	}
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)) {
		pthread_mutex_unlock(&cl->sendMutex);
		return false;
	}
	send_leds_locked(cl, leds);
	vc->leds_sent = (int)leds;
	pthread_mutex_unlock(&cl->sendMutex);
	return true;
}
