// SPDX-License-Identifier: MIT
/*
 * Time from exec to the first byte a VMM writes on its stdout (the guest's
 * serial console), or to the first occurrence of a marker string.
 *
 *   first_byte [-m MARKER] [-t TIMEOUT_S] -- command args...
 *
 * Prints "<seconds>" (to the first byte, or to the marker) on stdout and
 * kills the command. Exit 1 on timeout or if the command ends first.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *marker = NULL;
	double timeout = 30, start, found = -1;
	int opt, pipefd[2];
	pid_t pid;
	char window[8192];
	size_t have = 0;

	while ((opt = getopt(argc, argv, "m:t:")) != -1) {
		if (opt == 'm')
			marker = optarg;
		else if (opt == 't')
			timeout = atof(optarg);
		else
			return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: first_byte [-m MARKER] [-t S] -- cmd...\n");
		return 2;
	}
	if (pipe(pipefd) < 0)
		return 2;
	start = now();
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", 0);

		dup2(null, 0);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(pipefd[1]);
	while (found < 0 && now() - start < timeout) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(pipefd[0], window + have, sizeof(window) - 1 - have);
		if (n <= 0)
			break;
		if (!marker) {
			found = now() - start;
			break;
		}
		have += (size_t)n;
		window[have] = 0;
		if (memmem(window, have, marker, strlen(marker)))
			found = now() - start;
		else if (have > sizeof(window) / 2) {
			/* keep the tail: a marker may straddle reads */
			memmove(window, window + have - strlen(marker), strlen(marker));
			have = strlen(marker);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (found < 0) {
		fprintf(stderr, "first_byte: no %s within %.0f s\n",
			marker ? "marker" : "output", timeout);
		return 1;
	}
	printf("%.6f\n", found);
	return 0;
}
