/* hwoptctl top [--once] [--interval MS]: a live view of the daemon's
 * telemetry, redrawn for each sample of one telemetry.subscribe
 * subscription (its notifications read with poll() on the client's socket
 * together with stdin). No curses: the frame is drawn from the top-left
 * corner with ANSI escapes, each line cleared to its end. With a terminal
 * on stdin it is put in non-canonical, no-echo mode so that 'q' quits at
 * once; the mode is restored on every way out (q, SIGINT, SIGTERM, an
 * error). Without one, only SIGINT or SIGTERM end it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#define MAX_LINES 1024

struct frame {
	struct ctl_line *lines;
	int n;
};

static struct ctl_line *add_line(struct frame *f)
{
	if (f->n == MAX_LINES)
		return &f->lines[MAX_LINES - 1]; /* the rest writes over the last */
	f->lines[f->n] = (struct ctl_line){ 0 };
	return &f->lines[f->n++];
}

static const cJSON *get(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* The cpufreq entry of cpu, or NULL. */
static const cJSON *freq_of(const cJSON *cpufreq, double cpu)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, get(cpufreq, "cpus"))
		if (ctl_num(c, "cpu", -1) == cpu)
			return c;
	return NULL;
}

/* One CPU: "cpu3   [|||||        ]  41.5% 2.40G"; bw bar characters. */
static void cpu_cell(struct ctl_line *l, const cJSON *cpu, const cJSON *cpufreq, int bw)
{
	const cJSON *busy = get(cpu, "busy_pct");
	double b = cJSON_IsNumber(busy) ? busy->valuedouble : 0;
	int fill = (int)(b / 100.0 * bw + 0.5);
	fill = fill < 0 ? 0 : fill > bw ? bw : fill;
	ctl_line_add(l, "cpu%-3.0f [%.*s%*s]", ctl_num(cpu, "cpu", -1), fill,
		     "||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||",
		     bw - fill, "");
	if (cJSON_IsNumber(busy))
		ctl_line_add(l, " %5.1f%%", b);
	else
		ctl_line_add(l, "      -");
	const cJSON *f = get(freq_of(cpufreq, ctl_num(cpu, "cpu", -1)), "cur_hz");
	if (!cJSON_IsNumber(f))
		return; /* no cpufreq */
	if (f->valuedouble >= 1e9)
		ctl_line_add(l, " %.2fG", f->valuedouble / 1e9);
	else
		ctl_line_add(l, " %4.0fM", f->valuedouble / 1e6);
}

static void cpu_bars(struct frame *fr, const cJSON *sample, int cols)
{
	const char *why;
	const cJSON *ps = ctl_tm_part(sample, "procstat", &why);
	const cJSON *cf = ctl_tm_part(sample, "cpufreq", &why);
	int n = cJSON_GetArraySize(get(ps, "cpus"));
	if (!ps || n == 0)
		return;
	/* A cell is 24 columns and its bar; one CPU a line while few. */
	int per = 1, bw = cols - 24;
	if (n > 16 && cols >= 2 * 36) {
		per = cols / 36;
		bw = cols / per - 26;
	}
	bw = bw < 10 ? 10 : bw > 60 ? 60 : bw;
	int i = 0;
	struct ctl_line *l = NULL;
	const cJSON *cpu;
	cJSON_ArrayForEach(cpu, get(ps, "cpus")) {
		if (i++ % per == 0)
			l = add_line(fr);
		else
			ctl_line_add(l, "  ");
		cpu_cell(l, cpu, cf, bw);
	}
}

/* "ipc      w0 1.23 (cpu2)  w1 1.10 ...". */
static void ipc_line(struct ctl_line *l, const cJSON *sample)
{
	const char *why;
	const cJSON *p = ctl_tm_part(sample, "perf", &why), *u;
	ctl_line_add(l, "%-9s", "ipc");
	if (!p) {
		ctl_line_add(l, "unavailable (%s)", why);
		return;
	}
	int n = 0, with_ipc = 0;
	cJSON_ArrayForEach(u, get(p, "workers"))
		with_ipc += cJSON_IsNumber(get(get(u, "derived"), "ipc"));
	if (!with_ipc) {
		ctl_tm_summary(l, sample, "perf"); /* says why there is none */
		return;
	}
	cJSON_ArrayForEach(u, get(p, "workers")) {
		const cJSON *ipc = get(get(u, "derived"), "ipc");
		ctl_line_add(l, "%sw%.0f ", n++ ? "  " : "", ctl_num(u, "worker", -1));
		if (!cJSON_IsTrue(get(u, "available")))
			ctl_line_add(l, "unsupported: %s", ctl_str(u, "reason", "?"));
		else if (cJSON_IsNumber(ipc))
			ctl_line_add(l, "%.2f", ipc->valuedouble);
		else
			ctl_line_add(l, "-");
	}
	if (!n)
		ctl_line_add(l, "no workers");
}

static void build(struct frame *fr, const cJSON *s, int cols, bool interactive)
{
	char when[32];
	time_t t = (time_t)ctl_num(s, "time", 0);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	struct ctl_line *l = add_line(fr);
	ctl_line_add(l, "hwoptd top  %s  sample %.0f  every %.0f ms%s", when, ctl_num(s, "seq", 0),
		     ctl_num(s, "interval_ms", 0), interactive ? "  (q quits)" : "");
	l = add_line(fr);
	ctl_line_add(l, "%-9s", "cpu");
	ctl_tm_summary(l, s, "procstat");
	add_line(fr);
	cpu_bars(fr, s, cols);
	add_line(fr);
	static const char *const rows[][2] = {
		{ "freq", "cpufreq" }, { "thermal", "thermal" }, { "sensors", "hwmon" },
		{ "power", "power" },  { "battery", "battery" }, { "daemon", "daemon" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		l = add_line(fr);
		ctl_line_add(l, "%-9s", rows[i][0]);
		ctl_tm_summary(l, s, rows[i][1]);
	}
	ipc_line(add_line(fr), s);
	l = add_line(fr);
	ctl_line_add(l, "%-9s", "runqueue");
	ctl_tm_summary(l, s, "schedlat");
}

/* Bytes of s that fit in cols display columns (UTF-8 code points). */
static size_t fit(const char *s, int cols)
{
	size_t i = 0;
	int w = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && w++ == cols)
			break;
	}
	return i;
}

/* Draws a frame: in place on a terminal (live), else as plain lines. */
static void draw(const cJSON *s, bool live, bool interactive)
{
	int cols = 100, rows = 0;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		cols = ws.ws_col;
		rows = ws.ws_row;
	}
	struct frame fr = { .lines = malloc(MAX_LINES * sizeof(struct ctl_line)) };
	if (!fr.lines) {
		perror("hwoptctl");
		return;
	}
	build(&fr, s, cols, interactive);
	if (live)
		fputs("\033[H", stdout);
	for (int i = 0; i < fr.n; i++) {
		if (live && rows > 0 && i >= rows - 1)
			break; /* the last row stays free: no scrolling */
		const char *t = fr.lines[i].s;
		if (live)
			printf("%.*s\033[K\n", (int)fit(t, cols), t);
		else
			printf("%s\n", t);
	}
	if (live)
		fputs("\033[J", stdout);
	fflush(stdout);
	free(fr.lines);
}

/* ---- the terminal ---------------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_set, cursor_hidden;

static void tty_restore(void)
{
	if (tio_set)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_set = false;
	if (cursor_hidden) {
		fputs("\033[?25h", stdout);
		fflush(stdout);
	}
	cursor_hidden = false;
}

/* Keys one at a time, not echoed; ^C still signals. */
static bool tty_keys(void)
{
	if (tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return false;
	struct termios t = saved_tio;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
		return false;
	tio_set = true;
	return true;
}

static int live(struct ctl *ctl, int interval)
{
	bool interactive = isatty(STDIN_FILENO), on_tty = isatty(STDOUT_FILENO);
	cJSON *s;
	long long id;
	int rc, shown = 0;

	/* The newest sample at once, rather than after an interval. */
	if ((rc = ctl_tm_latest(ctl, NULL, false, &s)))
		return rc;
	if ((rc = ctl_tm_subscribe(ctl, interval, NULL, &id, NULL))) {
		cJSON_Delete(s);
		return rc;
	}
	ctl_tm_catch_signals(); /* before the terminal changes: always restored */
	atexit(tty_restore);
	if (interactive)
		interactive = tty_keys();
	if (on_tty) {
		fputs("\033[?25l\033[2J", stdout);
		cursor_hidden = true;
	}
	draw(s, on_tty, interactive);
	shown++;
	double seq = ctl_num(s, "seq", 0);
	cJSON_Delete(s);
	for (;;) {
		enum ctl_tm_event ev =
			ctl_tm_wait(ctl, id, interactive ? STDIN_FILENO : -1, -1, &s, &rc);
		if (ev == CTL_TM_SAMPLE && ctl_num(s, "seq", 0) <= seq) {
			cJSON_Delete(s); /* the one on screen */
		} else if (ev == CTL_TM_SAMPLE) {
			seq = ctl_num(s, "seq", 0);
			if (!on_tty && shown)
				putchar('\n');
			draw(s, on_tty, interactive);
			shown++;
			cJSON_Delete(s);
		} else if (ev == CTL_TM_INPUT) {
			char buf[64];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
				interactive = false; /* stdin is gone: signals only */
			if (n > 0 && (memchr(buf, 'q', (size_t)n) || memchr(buf, 'Q', (size_t)n)))
				break;
		} else if (ev == CTL_TM_FAILED) {
			tty_restore();
			return rc;
		} else {
			break; /* SIGINT or SIGTERM */
		}
	}
	tty_restore();
	return CTL_EXIT_OK;
}

static int top(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_command *cmd = &ctl_cmd_top;
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	bool once = false;
	long long interval = 0;
	int c, rc;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":1i:", opts, NULL)) != -1) {
		if (c == '1')
			once = true;
		else if (c == 'i') {
			if ((rc = ctl_parse_int(cmd->name, "--interval", optarg, 100, 3600000, &interval)))
				return rc;
		} else
			return ctl_bad_option(cmd, c, argc, argv);
	}
	if (optind != argc)
		return ctl_usage(cmd);
	if (ctl->json) {
		fprintf(stderr, "hwoptctl: top: no JSON output; see 'hwoptctl help telemetry'\n");
		return CTL_EXIT_USAGE;
	}
	if (!once)
		return live(ctl, (int)interval);
	cJSON *s;
	if ((rc = ctl_tm_latest(ctl, NULL, true, &s)))
		return rc;
	draw(s, false, false);
	cJSON_Delete(s);
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_cmd_top = {
	"top", "[--once] [--interval MS]", "live view of utilization, power, queues",
	"A live view of the daemon's telemetry, redrawn for every sample: a bar per\n"
	"CPU with its busy share and frequency, temperatures, power, battery,\n"
	"frequencies, the daemon's workers, queue depth, jobs/s and p99 latency,\n"
	"each worker's IPC and the run-queue latency. 'q' quits (or ^C).\n"
	"  --once           print one frame and exit (waits for the second sample\n"
	"                   of a daemon that just started: rates need two)\n"
	"  --interval MS    redraw every MS milliseconds (rounded up to the daemon's\n"
	"                   sampling interval; default: every sample)",
	top,
};
