// SPDX-License-Identifier: MIT
/*
 * The server's TLS credentials for VeNCrypt (vencrypt.c): the certificate
 * and key from --tls-dir, checked at startup so that a missing, unreadable,
 * malformed, expired or mismatched file is one clear line and a non-zero
 * exit instead of a handshake failure each viewer would see later.
 *
 * File names inside the directory (shared with the WebSocket bridge's
 * HTTPS/WSS, and what certs/make-certs.sh writes):
 *   server-cert.pem  the server certificate (PEM; may be followed by the
 *                    intermediate certificates of its chain)
 *   server-key.pem   its private key (PEM, unencrypted)
 *   ca-cert.pem      the CA that client certificates must chain to; read
 *                    only with --tls-verify-client
 *
 * TLS 1.2 and 1.3 only; certificates only (no anonymous or PSK suites, so
 * a viewer can always verify who it talks to).
 */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnc/vnc_int.h"

#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"

struct vnc_tls {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	bool verify_client;
};

/* Read DIR/NAME whole; on error a one-line message naming the file. */
static int load(const char *dir, const char *name, gnutls_datum_t *d,
		char *path, size_t pathlen, char *err, size_t errlen)
{
	FILE *f;
	long len;

	snprintf(path, pathlen, "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "--tls-dir: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "--tls-dir: %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (len == 0 || len > (1 << 20)) {
		snprintf(err, errlen, "--tls-dir: %s: %s", path,
			 len ? "larger than 1 MiB" : "the file is empty");
		fclose(f);
		return -1;
	}
	d->data = gnutls_malloc((size_t)len + 1);
	if (!d->data || fread(d->data, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "--tls-dir: %s: cannot read", path);
		gnutls_free(d->data);
		d->data = NULL;
		fclose(f);
		return -1;
	}
	d->data[len] = 0;
	d->size = (unsigned)len;
	fclose(f);
	return 0;
}

/* The leaf must be a valid certificate now. */
static int check_validity(gnutls_x509_crt_t crt, const char *path, char *err,
			  size_t errlen)
{
	time_t now = time(NULL);
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);

	if (until != (time_t)-1 && until < now) {
		snprintf(err, errlen, "--tls-dir: %s: the certificate has expired", path);
		return -1;
	}
	if (from != (time_t)-1 && from > now + 300) {
		snprintf(err, errlen, "--tls-dir: %s: the certificate is not valid yet", path);
		return -1;
	}
	return 0;
}

/*
 * Parse the certificate chain and the key ourselves first: gnutls's one-call
 * loader reports "Base64 decoding error" without saying which file.
 */
static int load_key_pair(struct vnc_tls *t, const char *dir, char *err,
			 size_t errlen)
{
	char cpath[4200], kpath[4200];
	gnutls_datum_t cd = { 0 }, kd = { 0 };
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	unsigned ncrts = 0;
	int rc = -1, r;

	if (load(dir, "server-cert.pem", &cd, cpath, sizeof(cpath), err, errlen) ||
	    load(dir, "server-key.pem", &kd, kpath, sizeof(kpath), err, errlen))
		goto out;
	r = gnutls_x509_crt_list_import2(&crts, &ncrts, &cd, GNUTLS_X509_FMT_PEM,
					 GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (r < 0 || !ncrts) {
		snprintf(err, errlen, "--tls-dir: %s: not a PEM certificate (%s)",
			 cpath, r < 0 ? gnutls_strerror(r) : "none found");
		goto out;
	}
	if (check_validity(crts[0], cpath, err, errlen))
		goto out;
	if ((r = gnutls_x509_privkey_init(&key)) < 0 ||
	    (r = gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM,
					     NULL, 0)) < 0) {
		snprintf(err, errlen, "--tls-dir: %s: not an unencrypted PEM private key (%s)",
			 kpath, gnutls_strerror(r));
		goto out;
	}
	r = gnutls_certificate_set_x509_key(t->cred, crts, ncrts, key);
	if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		snprintf(err, errlen, "--tls-dir: %s does not belong to %s (the key does not match the certificate)",
			 kpath, cpath);
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, "--tls-dir: %s, %s: %s", cpath, kpath,
			 gnutls_strerror(r));
		goto out;
	}
	rc = 0;
out:
	for (unsigned i = 0; i < ncrts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (key)
		gnutls_x509_privkey_deinit(key);
	gnutls_free(cd.data);
	if (kd.data) {
		explicit_bzero(kd.data, kd.size);
		gnutls_free(kd.data);
	}
	return rc;
}

static int load_client_ca(struct vnc_tls *t, const char *dir, char *err,
			  size_t errlen)
{
	char path[4200];
	gnutls_datum_t d = { 0 };
	int r;

	if (load(dir, "ca-cert.pem", &d, path, sizeof(path), err, errlen))
		return -1;
	r = gnutls_certificate_set_x509_trust_mem(t->cred, &d,
						  GNUTLS_X509_FMT_PEM);
	gnutls_free(d.data);
	if (r <= 0) {
		snprintf(err, errlen, "--tls-dir: %s: no PEM CA certificate (%s)",
			 path, r < 0 ? gnutls_strerror(r) : "none found");
		return -1;
	}
	return 0;
}

struct vnc_tls *vnc_tls_load(const char *dir, bool verify_client, char *err,
			     size_t errlen)
{
	struct vnc_tls *t = calloc(1, sizeof(*t));
	const char *pos = NULL;
	int r;

	if (!t) {
		snprintf(err, errlen, "vnc: out of memory");
		return NULL;
	}
	t->verify_client = verify_client;
	if ((r = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		snprintf(err, errlen, "vnc: gnutls: %s", gnutls_strerror(r));
		goto fail;
	}
	if (load_key_pair(t, dir, err, errlen) ||
	    (verify_client && load_client_ca(t, dir, err, errlen)))
		goto fail;
	/* TLS 1.2 DHE suites need parameters; the RFC 7919 groups. */
	gnutls_certificate_set_known_dh_params(t->cred, GNUTLS_SEC_PARAM_MEDIUM);
	if ((r = gnutls_priority_init(&t->prio, TLS_PRIORITY, &pos)) < 0) {
		snprintf(err, errlen, "vnc: gnutls priority '%s': %s", TLS_PRIORITY,
			 gnutls_strerror(r));
		goto fail;
	}
	return t;
fail:
	vnc_tls_free(t);
	return NULL;
}

void vnc_tls_free(struct vnc_tls *t)
{
	if (!t)
		return;
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

bool vnc_tls_verifies_clients(const struct vnc_tls *t)
{
	return t && t->verify_client;
}

int vnc_tls_session(struct vnc_tls *t, int fd, gnutls_session_t *out)
{
	gnutls_session_t s;
	int r;

	if ((r = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_SIGNAL)) < 0)
		return r;
	if ((r = gnutls_priority_set(s, t->prio)) < 0 ||
	    (r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0) {
		gnutls_deinit(s);
		return r;
	}
	if (t->verify_client) {
		/* The handshake itself fails unless the client presents a
		 * certificate that chains to ca-cert.pem and is valid now. */
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(s, NULL, 0);
	}
	gnutls_transport_set_int(s, fd);
	*out = s;
	return 0;
}
