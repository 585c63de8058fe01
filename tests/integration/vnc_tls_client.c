// SPDX-License-Identifier: MIT
/*
 * A libvncclient viewer for the VeNCrypt tests (test_vnc_tls.sh): connects,
 * waits for a frame of the console that is not one uniform colour, prints
 * what it negotiated and exits.
 *
 *   vnc_tls_client [--ca FILE] [--cert FILE --key FILE] [--password-file FILE]
 *                  [--plain] [--timeout S] HOST PORT
 *
 * --ca makes it ask for VeNCrypt only (security type 19) and verify the
 * server against FILE (libvncclient's gnutls code also checks the host
 * name); --cert/--key present a client certificate; --plain asks for VNC
 * authentication (or None) without TLS. --password-file gives the VNC
 * password (first line).
 *
 * Exit status: 0 and "ok frame WxH security=S subtype=T" on success; 1 and
 * "FAIL <reason>" plus libvncclient's log lines otherwise.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rfb/rfbclient.h>

#include "tests/common/rfbwait.h"

static struct {
	const char *ca, *cert, *key, *password_file;
	bool plain;
	double timeout;
} opt = { .timeout = 20 };

static char logbuf[16384];
static size_t loglen;
static bool frame_done;

static void client_log(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (loglen >= sizeof(logbuf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		loglen += (size_t)n < sizeof(logbuf) - loglen ?
			  (size_t)n : sizeof(logbuf) - loglen - 1;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* libvncclient frees the strings and the struct. */
static rfbCredential *get_credential(rfbClient *c, int type)
{
	rfbCredential *cred;

	(void)c;
	if (type != rfbCredentialTypeX509)
		return NULL;
	cred = calloc(1, sizeof(*cred));
	if (!cred)
		return NULL;
	cred->x509Credential.x509CACertFile = dup_or_null(opt.ca);
	cred->x509Credential.x509ClientCertFile = dup_or_null(opt.cert);
	cred->x509Credential.x509ClientKeyFile = dup_or_null(opt.key);
	return cred;
}

/* libvncclient frees the returned string. */
static char *get_password(rfbClient *c)
{
	char line[256] = "";
	FILE *f;

	(void)c;
	if (!opt.password_file)
		return strdup("");
	f = fopen(opt.password_file, "r");
	if (!f || !fgets(line, sizeof(line), f))
		line[0] = 0;
	if (f)
		fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	return strdup(line);
}

static void finished_update(rfbClient *c)
{
	(void)c;
	frame_done = true;
}

static bool frame_varied(rfbClient *c)
{
	const uint32_t *px = (const uint32_t *)c->frameBuffer;
	size_t n = (size_t)c->width * (size_t)c->height;

	for (size_t i = 1; px && i < n; i++)
		if ((px[i] & 0xFFFFFF) != (px[0] & 0xFFFFFF))
			return true;
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *why)
{
	printf("FAIL %s\n", why);
	if (loglen)
		printf("libvncclient log:\n%s", logbuf);
	fflush(stdout);
	return 1;
}

/* rfbClientCleanup() leaves the frame buffer to the application. */
static void cleanup(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

int main(int argc, char **argv)
{
	uint32_t vencrypt_only[] = { rfbVeNCrypt };
	uint32_t plain_only[] = { rfbVncAuth, rfbNoAuth };
	const char *host;
	rfbClient *c;
	double end;
	int i, port;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--plain")) {
			opt.plain = true;
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (!strcmp(argv[i], "--ca"))
			opt.ca = argv[++i];
		else if (!strcmp(argv[i], "--cert"))
			opt.cert = argv[++i];
		else if (!strcmp(argv[i], "--key"))
			opt.key = argv[++i];
		else if (!strcmp(argv[i], "--password-file"))
			opt.password_file = argv[++i];
		else if (!strcmp(argv[i], "--timeout"))
			opt.timeout = atof(argv[++i]);
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: %s [--ca FILE] [--cert FILE --key FILE] [--password-file FILE] [--plain] [--timeout S] HOST PORT\n",
			argv[0]);
		return 2;
	}
	host = argv[i];
	port = atoi(argv[i + 1]);

	/* A refused handshake closes the socket under libvncclient's
	 * writes. */
	signal(SIGPIPE, SIG_IGN);
	rfbClientLog = client_log;
	rfbClientErr = client_log;
	c = rfbGetClient(8, 3, 4);
	if (!c)
		return fail("rfbGetClient");
	free(c->serverHost);
	c->serverHost = strdup(host);
	c->serverPort = port;
	c->GetCredential = get_credential;
	c->GetPassword = get_password;
	c->FinishedFrameBufferUpdate = finished_update;
	c->appData.encodingsString = "tight zrle raw";
	if (opt.plain)
		SetClientAuthSchemes(c, plain_only, 2);
	else
		SetClientAuthSchemes(c, vencrypt_only, 1);
	/* rfbInitClient() frees the client when it fails. */
	if (!rfbInitClient(c, NULL, NULL))
		return fail("connect: the handshake failed");

	end = now_s() + opt.timeout;
	while (now_s() < end) {
		int r = rfb_wait_message(c, 100000);

		if (r < 0 || (r > 0 && !HandleRFBServerMessage(c))) {
			cleanup(c);
			return fail("the server closed the connection");
		}
		if (frame_done && frame_varied(c))
			break;
	}
	if (!frame_done || !frame_varied(c)) {
		cleanup(c);
		return fail(frame_done ? "only uniform frames" : "no frame");
	}
	printf("ok frame %dx%d security=%u subtype=%u\n", c->width, c->height,
	       c->authScheme, c->subAuthScheme);
	fflush(stdout);
	cleanup(c);
	return 0;
}
