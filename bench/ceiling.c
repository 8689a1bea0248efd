/* ceiling.c - the HTTP ceiling: libmicrohttpd answering a fixed 26-byte body
 * with ringerd's settings (internal polling thread pool, epoll, the same pool
 * size, the response queued on the request's second call as ringerd does).
 *
 * usage: ceiling PORT THREADS   (PORT 0: any free port, printed on stdout)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char body[] = "7205550000;PRT1 ceiling ok"; /* 26 bytes */
static struct MHD_Response *resp;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	static int first;

	if (*con_cls == NULL) {
		*con_cls = &first; /* headers only: answer on the next call */
		return MHD_YES;
	}
	return MHD_queue_response(c, 200, resp);
}

int main(int argc, char **argv)
{
	unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8090;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	_Static_assert(sizeof(body) - 1 == 26, "26-byte body");
	resp = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					       MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_ALLOW_SUSPEND_RESUME,
			     (uint16_t)port, NULL, NULL, on_request, NULL,
			     MHD_OPTION_THREAD_POOL_SIZE, threads,
			     MHD_OPTION_CONNECTION_TIMEOUT, 60u,
			     MHD_OPTION_CONNECTION_LIMIT, 10000u,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "ceiling: cannot listen on %u\n", port);
		return 1;
	}
	if (port == 0) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);

		printf("%u\n", di ? (unsigned)di->port : 0u);
		fflush(stdout);
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	MHD_destroy_response(resp);
	return 0;
}
