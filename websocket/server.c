// SPDX-License-Identifier: MIT
/*
 * The web server: --web parsing, the libwebsockets context and its service
 * thread, TLS set-up, and the access checks (token, Origin) that http.c
 * and bridge.c apply.
 *
 * libwebsockets' own log is process-wide; it goes to ours at warning level
 * and below, rate-limited (clients can trigger it), with anything that
 * looks like a token query argument blanked, as tokens are never logged.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/hostport.h"
#include "vmm/log.h"
#include "websocket/web_int.h"

#define DEFAULT_MAX_CLIENTS 16
#define RX_BUFFER 16384

struct web_server *web_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

int web_parse_listen(const char *spec, char *host, size_t hostlen, int *port,
		     char *err, size_t errlen)
{
	if (!spec || !*spec) {
		format_err(err, errlen, "--web: expected ADDR:PORT or PORT");
		return -1;
	}
	if (spec[0] == '[' || strchr(spec, ':'))
		return parse_host_port("--web", spec, host, hostlen, port, err,
				       errlen);
	/* A port alone: on the default address. */
	if (strlen(WEB_DEFAULT_HOST) >= hostlen) {
		format_err(err, errlen, "--web %s: address too long", spec);
		return -1;
	}
	if (parse_port(spec, port)) {
		format_err(err, errlen, "--web %s: the port must be a number 0..65535", spec);
		return -1;
	}
	strcpy(host, WEB_DEFAULT_HOST);
	return 0;
}

int web_find_root(const char *exe_path, char *out, size_t outlen)
{
	char dir[PATH_MAX], try[PATH_MAX + 16];
	const char *suffix[] = { "/web", "/../web" };
	char *slash;
	struct stat st;

	if (!exe_path || strlen(exe_path) >= sizeof(dir))
		return -1;
	strcpy(dir, exe_path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else
		*slash = 0;
	for (size_t i = 0; i < 2; i++) {
		snprintf(try, sizeof(try), "%s%s/index.html", dir, suffix[i]);
		if (stat(try, &st) || !S_ISREG(st.st_mode))
			continue;
		snprintf(try, sizeof(try), "%s%s", dir, suffix[i]);
		if (!realpath(try, out) || strlen(out) >= outlen)
			return -1;
		return 0;
	}
	return -1;
}

/* ---- access checks ---------------------------------------------------- */

enum web_token_result web_check_token(struct lws *wsi,
				      struct web_token_info *info)
{
	struct web_server *srv = web_of(wsi);
	char buf[WEB_TOKEN_MAX + 16];
	const char *tok;
	enum web_token_result rc;

	tok = lws_get_urlarg_by_name(wsi, "token=", buf, (int)sizeof(buf));
	rc = web_tokens_check(srv->tokens, tok, (int64_t)time(NULL), info);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

bool web_origin_ok(struct lws *wsi)
{
	struct web_server *srv = web_of(wsi);
	char origin[300], host[260], want[300];
	int olen = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);

	if (olen <= 0)
		return true;    /* not a browser: the token decides */
	if (olen >= (int)sizeof(origin) ||
	    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
		return false;
	if (srv->allow_origin && !strcasecmp(origin, srv->allow_origin))
		return true;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HOST) <= 0 ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_HOST) >= (int)sizeof(host) ||
	    lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) < 0)
		return false;
	snprintf(want, sizeof(want), "%s://%s", srv->tls ? "https" : "http",
		 host);
	return !strcasecmp(origin, want);
}

/* ---- libwebsockets' log ----------------------------------------------- */

static void lws_log_emit(int level, const char *line)
{
	char buf[256];
	char *p;
	size_t n;

	snprintf(buf, sizeof(buf), "%s", line);
	for (p = buf; (p = strstr(p, "token=")); ) {
		p += 6;
		while (*p && *p != '&' && *p != ' ' && *p != '\n')
			*p++ = '*';
	}
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	if (level & LLL_ERR)
		log_ratelimited(LOG_WARN, "web: libwebsockets: %s", buf);
	else
		log_ratelimited(LOG_DEBUG, "web: libwebsockets: %s", buf);
}

/* ---- the server ------------------------------------------------------- */

static void *service_thread(void *arg)
{
	struct web_server *srv = arg;

	while (!atomic_load(&srv->stopping))
		if (lws_service(srv->ctx, 0) < 0)
			break;
	return NULL;
}

static int check_readable(const char *dir, const char *name, char *path,
			  size_t pathlen, char *err, size_t errlen)
{
	struct stat st;

	snprintf(path, pathlen, "%s/%s", dir, name);
	if (access(path, R_OK) || stat(path, &st) || !S_ISREG(st.st_mode)) {
		format_err(err, errlen, "--tls-dir %s: cannot read %s (make certs creates it)",
			   dir, name);
		return -1;
	}
	return 0;
}

/* Resolve the listen address to a numeric one for lws's iface. */
static int resolve_host(struct web_server *srv, char *numeric, size_t len,
			bool *ipv6, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res;
	int rc;

	*ipv6 = false;
	if (!srv->host[0]) {
		numeric[0] = 0;
		*ipv6 = true;
		return 0;
	}
	rc = getaddrinfo(srv->host, NULL, &hints, &res);
	if (rc) {
		format_err(err, errlen, "--web %s: %s", srv->host, gai_strerror(rc));
		return -1;
	}
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, numeric, (socklen_t)len,
			 NULL, 0, NI_NUMERICHOST);
	*ipv6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	if (rc) {
		format_err(err, errlen, "--web %s: %s", srv->host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static void make_url(struct web_server *srv, const char *numeric, bool ipv6,
		     const char *token)
{
	const char *h = srv->host[0] ? srv->host : WEB_DEFAULT_HOST;

	(void)numeric;
	snprintf(srv->url, sizeof(srv->url), "%s://%s%s%s:%d/?token=%s",
		 srv->tls ? "https" : "http", ipv6 && srv->host[0] ? "[" : "",
		 h, ipv6 && srv->host[0] ? "]" : "", srv->port, token);
}

struct web_server *web_server_create(const struct web_config *cfg, char *err,
				     size_t errlen)
{
	struct lws_context_creation_info info;
	struct web_server *srv = calloc(1, sizeof(*srv));
	char numeric[INET6_ADDRSTRLEN + 8], token[WEB_TOKEN_MAX + 1];
	char cert[PATH_MAX + 32], key[PATH_MAX + 32], idx[PATH_MAX + 16];
	struct stat st;
	bool ipv6;

	if (!srv) {
		format_err(err, errlen, "--web: out of memory");
		return NULL;
	}
	srv->max_clients = cfg->max_clients > 0 ? cfg->max_clients : DEFAULT_MAX_CLIENTS;
	srv->add_client = cfg->add_client;
	srv->opaque = cfg->opaque;
	srv->tls = cfg->tls_dir != NULL;
	if (web_parse_listen(cfg->listen, srv->host, sizeof(srv->host),
			     &srv->port, err, errlen))
		goto fail;
	if (!cfg->root || !realpath(cfg->root, srv->root)) {
		format_err(err, errlen, "--web: the page directory %s is missing (make bins builds it)",
			   cfg->root ? cfg->root : "web/");
		goto fail;
	}
	snprintf(idx, sizeof(idx), "%s/index.html", srv->root);
	if (stat(idx, &st) || !S_ISREG(st.st_mode)) {
		format_err(err, errlen, "--web: %s has no index.html (make bins builds it)",
			   srv->root);
		goto fail;
	}
	if (cfg->allow_origin && !(srv->allow_origin = strdup(cfg->allow_origin))) {
		format_err(err, errlen, "--web: out of memory");
		goto fail;
	}
	srv->tokens = web_tokens_create();
	if (!srv->tokens || web_tokens_generate(srv->tokens, false, token,
						sizeof(token))) {
		format_err(err, errlen, "--web: cannot generate a token: %s",
			   strerror(errno));
		goto fail;
	}
	if (cfg->token_file &&
	    web_tokens_set_file(srv->tokens, cfg->token_file, err, errlen))
		goto fail;
	if (srv->tls &&
	    (check_readable(cfg->tls_dir, "server-cert.pem", cert, sizeof(cert), err, errlen) ||
	     check_readable(cfg->tls_dir, "server-key.pem", key, sizeof(key), err, errlen)))
		goto fail;
	if (resolve_host(srv, numeric, sizeof(numeric), &ipv6, err, errlen))
		goto fail;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	srv->protocols[0] = (struct lws_protocols){
		.name = "http", .callback = web_http_callback,
	};
	srv->protocols[1] = (struct lws_protocols){
		.name = WEB_PROTOCOL, .callback = web_bridge_callback,
		.per_session_data_size = web_bridge_pss_size(),
		.rx_buffer_size = RX_BUFFER,
	};
	memset(&info, 0, sizeof(info));
	info.port = srv->port;
	info.iface = numeric[0] ? numeric : NULL;
	info.protocols = srv->protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = srv;
	info.timeout_secs = 10;
	info.max_http_header_data = 4096;
	info.max_http_header_pool = 32;
	info.alpn = "http/1.1";         /* no WebSocket over HTTP/2 */
	info.server_string = "vmm";
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (!ipv6)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (srv->tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
	}
	srv->ctx = lws_create_context(&info);
	if (!srv->ctx) {
		if (srv->tls)
			format_err(err, errlen, "--web %s: cannot start (port in use, or the certificate or key in %s rejected)",
				   cfg->listen, cfg->tls_dir);
		else
			format_err(err, errlen, "--web %s: cannot listen (port in use or address not local?)",
				   cfg->listen);
		goto fail;
	}
	{
		struct lws_vhost *vh = lws_get_vhost_by_name(srv->ctx, "default");
		int p = vh ? lws_get_vhost_listen_port(vh) : -1;

		if (p > 0)
			srv->port = p;
	}
	make_url(srv, numeric, ipv6, token);
	explicit_bzero(token, sizeof(token));
	if (pthread_create(&srv->thread, NULL, service_thread, srv)) {
		format_err(err, errlen, "--web: cannot start its thread");
		goto fail;
	}
	srv->thread_started = true;
	log_info("web: serving %s on %s:%d%s", srv->root,
		 srv->host[0] ? srv->host : "*", srv->port,
		 srv->tls ? " (TLS)" : "");
	return srv;
fail:
	explicit_bzero(token, sizeof(token));
	web_server_destroy(srv);
	return NULL;
}

void web_server_destroy(struct web_server *srv)
{
	if (!srv)
		return;
	atomic_store(&srv->stopping, true);
	if (srv->thread_started) {
		lws_cancel_service(srv->ctx);
		pthread_join(srv->thread, NULL);
	}
	if (srv->ctx)
		lws_context_destroy(srv->ctx);
	web_tokens_destroy(srv->tokens);
	free(srv->allow_origin);
	explicit_bzero(srv->url, sizeof(srv->url));
	free(srv);
}

int web_server_port(struct web_server *srv)
{
	return srv->port;
}

const char *web_server_url(struct web_server *srv)
{
	return srv->url;
}

int web_server_client_count(struct web_server *srv)
{
	return atomic_load(&srv->nclients);
}
