# websocket/: make fragment included by the top-level Makefile (after vnc.mk).
# websocket/*.c are compiled into libvmm.a by the top Makefile's LIB_SRCS.
#
# - libwebsockets (Debian's, OpenSSL inside) for the web server;
# - the console page: web/ plus noVNC from npm (web/package.json, pinned,
#   with its lock file; its core/ and vendor/ ES modules, loaded by the
#   browser as they are) copied into $(BUILD)/web, which every variant's
#   vmm finds next to itself (build/vmm and build/asan/vmm -> build/web).

WEB_PKGS := libwebsockets
CFLAGS += $(shell pkg-config --cflags $(WEB_PKGS) 2>/dev/null)
LDLIBS += $(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null)

WEB_OUT := $(BUILD)/web
WEB_PAGE_SRCS := web/index.html web/console.js web/console.css
WEB_NPM_STAMP := web/node_modules/.package-lock.json

$(WEB_NPM_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

NOVNC := web/node_modules/@novnc/novnc

$(WEB_OUT)/index.html: $(WEB_PAGE_SRCS) $(WEB_NPM_STAMP)
	@mkdir -p $(WEB_OUT)
	rm -rf $(WEB_OUT)/novnc && mkdir -p $(WEB_OUT)/novnc
	cp -r $(NOVNC)/core $(NOVNC)/vendor $(WEB_OUT)/novnc/
	cp $(NOVNC)/LICENSE.txt $(WEB_OUT)/novnc/LICENSE.txt
	cp web/console.js web/console.css $(WEB_OUT)/
	cp web/index.html $@

.PHONY: web
web: $(WEB_OUT)/index.html
bins: web
