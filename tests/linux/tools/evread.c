/* SPDX-License-Identifier: MIT */
/*
 * evread: print a keyboard's evdev key events, for the Linux-tier tests (it
 * runs inside the Debian test guest, built static: the guest has busybox
 * only).
 *
 *   evread [-g] [-a] [-s] [-n COUNT] [-t SECONDS] [NAME]
 *
 * Finds the input device called NAME (default "AT Translated Set 2
 * keyboard", the i8042 keyboard) in /proc/bus/input/devices, opens its
 * /dev/input/eventN and prints one line per EV_KEY event:
 *
 *   EV <type> <code> <value>        e.g. "EV 1 63 1" (KEY_F5 pressed)
 *
 *   -a          also EV_REL and EV_ABS events (pointers): "EV 2 0 50" is
 *               REL_X +50
 *   -s          NAME is a substring of the device name (the first device
 *               whose name contains it)
 * after a first line "EVREAD-READY eventN" once it is reading.
 *   -g          grab the device (EVIOCGRAB): the keys do not reach the
 *               console (no shell on a VT sees them)
 *   -n COUNT    exit 0 after COUNT EV_KEY events
 *   -t SECONDS  exit 1 after this long ("EVREAD-TIMEOUT")
 * Exit status 1 when the device is missing or unreadable, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_NAME "AT Translated Set 2 keyboard"

static void usage(FILE *f)
{
	fprintf(f, "usage: evread [-g] [-a] [-s] [-n COUNT] [-t SECONDS] [NAME]\n"
		   "NAME: an input device name (default \"" DEFAULT_NAME "\")\n");
}

/*
 * The "eventN" handler of the device called name, from
 * /proc/bus/input/devices: blocks of "N: Name=\"...\"" and
 * "H: Handlers=sysrq kbd event0 leds" lines, separated by blank lines.
 */
static bool find_event_dev(const char *name, bool substring, char *ev,
			   size_t evlen)
{
	FILE *f = fopen("/proc/bus/input/devices", "r");
	char line[512], want[300];
	bool in_dev = false, found = false;

	if (!f) {
		perror("evread: /proc/bus/input/devices");
		return false;
	}
	snprintf(want, sizeof(want), "N: Name=\"%s\"", name);
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0]) {
			in_dev = false;
		} else if (!strncmp(line, "N: ", 3)) {
			in_dev = substring ? strstr(line, name) != NULL :
					     !strcmp(line, want);
		} else if (in_dev && !strncmp(line, "H: Handlers=", 12)) {
			for (char *t = strtok(line + 12, " "); t; t = strtok(NULL, " ")) {
				if (!strncmp(t, "event", 5) && strlen(t) < evlen) {
					snprintf(ev, evlen, "%s", t);
					found = true;
					break;
				}
			}
		}
	}
	fclose(f);
	return found;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_uint(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && end != s && !*end && s[0] != '-';
}

int main(int argc, char **argv)
{
	const char *name = DEFAULT_NAME;
	unsigned long count = 0, timeout = 0, seen = 0;
	bool grab = false, all = false, substring = false;
	char ev[32], path[64];
	double deadline;
	int opt, fd;

	while ((opt = getopt(argc, argv, "gasn:t:h")) != -1) {
		switch (opt) {
		case 'g':
			grab = true;
			break;
		case 'a':
			all = true;
			break;
		case 's':
			substring = true;
			break;
		case 'n':
			if (!parse_uint(optarg, &count) || !count) {
				usage(stderr);
				return 2;
			}
			break;
		case 't':
			if (!parse_uint(optarg, &timeout) || !timeout || timeout > 86400) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		usage(stderr);
		return 2;
	}
	if (optind < argc)
		name = argv[optind];
	/* Lines reach the serial console as they happen. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!find_event_dev(name, substring, ev, sizeof(ev))) {
		fprintf(stderr, "evread: no input device \"%s\" with an event handler\n", name);
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/input/%s", ev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "evread: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (grab && ioctl(fd, EVIOCGRAB, 1) < 0) {
		fprintf(stderr, "evread: EVIOCGRAB %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("EVREAD-READY %s\n", ev);

	deadline = now_s() + (double)timeout;
	for (;;) {
		struct input_event e[64];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait_ms = -1;
		ssize_t n;

		if (timeout) {
			double left = deadline - now_s();

			if (left <= 0) {
				printf("EVREAD-TIMEOUT\n");
				return 1;
			}
			wait_ms = (int)(left * 1000) + 1;
		}
		if (poll(&p, 1, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			perror("evread: poll");
			return 1;
		}
		if (!p.revents)
			continue;
		n = read(fd, e, sizeof(e));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "evread: read %s: %s\n", path, strerror(errno));
			return 1;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(e[0]); i++) {
			if (e[i].type != EV_KEY &&
			    !(all && (e[i].type == EV_REL || e[i].type == EV_ABS)))
				continue;
			printf("EV %u %u %d\n", e[i].type, e[i].code, e[i].value);
			if (count && ++seen >= count)
				return 0;
		}
	}
}
