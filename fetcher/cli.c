/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line of crlsync: getopt_long over global and per-subcommand options, help texts, exit codes. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

const struct cli_exit cli_exits[] = {
	{ EXIT_OK, "success: every source fresh (fetch), daemon signalled (refresh), none revoked (check), CRL usable (verify)" },
	{ EXIT_FAIL, "operational failure: a source not refreshed, no daemon to signal, state unreadable; "
		     "check: a certificate is revoked; verify: the CRL is unusable" },
	{ EXIT_CONFIG, "configuration error: the file, a key or value, a `ca' file" },
	{ EXIT_USAGE, "usage error: unknown command or option, missing or extra argument, unreadable file named on the "
		      "command line" },
	{ EXIT_UNDECIDED, "check only: cannot decide (no usable CRL for a certificate, or an expired one)" },
};
const unsigned cli_n_exits = sizeof(cli_exits) / sizeof(cli_exits[0]);

/* Options of the subcommands: long only, so that no letter is taken from the global ones. */
enum {
	OPT_PIDFILE = 0x100,
	OPT_NO_PIDFILE,
	OPT_SYSLOG,
	OPT_JSON,
	OPT_WIDE,
	OPT_CA,
	OPT_PROMETHEUS,
	OPT_WARN,
	OPT_CRIT,
};

#define CLI_O(opt) (1U << ((opt)-OPT_PIDFILE))

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ "pidfile", required_argument, NULL, OPT_PIDFILE },
	{ "no-pidfile", no_argument, NULL, OPT_NO_PIDFILE },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "wide", no_argument, NULL, OPT_WIDE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "warn", required_argument, NULL, OPT_WARN },
	{ "crit", required_argument, NULL, OPT_CRIT },
	{ NULL, 0, NULL, 0 },
};

static const struct cmd_spec {
	const char *name;
	const char *synopsis; /* after the name */
	const char *summary;  /* one line, for the command list */
	const char *details;  /* the command's own help: what it does, its options */
	unsigned opts;        /* CLI_O(OPT_*) it accepts */
	int min_args, max_args;
} cmds[CLI_CMD_COUNT] = {
	[CLI_CMD_FETCH] = { "fetch", "", "one pass over every source, then exit (cron)",
			    "Refresh every source once: download, verify, refuse rollbacks, install.\n"
			    "Exit 0 when every source is fresh (installed, or unchanged), 1 when any is not\n"
			    "(its previous CRL stays), 2 on configuration errors.\n",
			    0, 0, 0 },
	[CLI_CMD_DAEMON] = { "daemon", "[--pidfile FILE | --no-pidfile] [--syslog]",
			     "stay in the foreground, refresh on schedule",
			     "Stay in the foreground and refresh every source on schedule. SIGUSR1\n"
			     "refreshes now, SIGHUP re-reads the configuration, SIGTERM and SIGINT exit 0.\n\n"
			     "  --pidfile FILE  write and lock FILE (default " CRLSYNC_PIDFILE ")\n"
			     "  --no-pidfile    write none (then `crlsync refresh' cannot find the daemon)\n"
			     "  --syslog        log to syslog (LOG_DAEMON) instead of stderr\n",
			     CLI_O(OPT_PIDFILE) | CLI_O(OPT_NO_PIDFILE) | CLI_O(OPT_SYSLOG), 0, 0 },
	[CLI_CMD_REFRESH] = { "refresh", "[--pidfile FILE]", "ask the daemon to refresh every source now",
			      "Send SIGUSR1 to the crlsync daemon of the pidfile, when it is one run by\n"
			      "the pidfile's owner. Exit 0 signalled, 1 not (no daemon, stale or suspicious\n"
			      "pidfile).\n\n"
			      "  --pidfile FILE  the daemon's pidfile (default " CRLSYNC_PIDFILE ")\n",
			      CLI_O(OPT_PIDFILE), 0, 0 },
	[CLI_CMD_STATUS] = { "status", "[--wide | --json | --prometheus]", "each source: installed CRL, result, next try",
			     "Per source: the installed CRL, the last attempt and its result, the next one;\n"
			     "with [plugin] status-file, what the OpenVPN plugin enforces beside it.\n"
			     "The table fits 80 columns; --wide shows every column and the URL.\n\n"
			     "  --wide        every column: dates, last success, the (masked) URL\n"
			     "  --json        every field, as a JSON object (schema 1, crlsync(8))\n"
			     "  --prometheus  the metrics, in the Prometheus text format\n",
			     CLI_O(OPT_WIDE) | CLI_O(OPT_JSON) | CLI_O(OPT_PROMETHEUS), 0, 0 },
	[CLI_CMD_CHECK] = { "check", "CERT...", "is a certificate revoked by the installed CRLs",
			    "Check certificates (PEM, several per file, or DER) against the installed CRLs.\n"
			    "Exit 0 none revoked, 1 one is revoked, 4 cannot decide, 2 configuration error,\n"
			    "3 usage or file error.\n",
			    0, 1, -1 },
	[CLI_CMD_VERIFY] = { "verify", "CRLFILE --ca CAFILE", "verify a CRL file and print its summary",
			     "Verify any CRL file against a CA certificate and print its summary, or the\n"
			     "precise reason it is unusable. Exit 0 usable, 1 unusable, 3 usage or file\n"
			     "error.\n\n"
			     "  --ca CAFILE  the PEM certificate of the CRL's issuer (required)\n",
			     CLI_O(OPT_CA), 1, 1 },
	[CLI_CMD_HEALTH] = { "health", "[--warn DURATION] [--crit DURATION]", "monitoring check (Nagios, Icinga, Sensu)",
			     "One line `CRLSYNC OK|WARNING|CRITICAL|UNKNOWN - summary | perfdata', exit 0, 1,\n"
			     "2 or 3 (the monitoring-plugins codes, not the table below). CRITICAL: a source\n"
			     "has no CRL, or it expired (nextUpdate + grace) or expires within --crit, or\n"
			     "the plugin's status-file shows an older CRL for more than 30 s. WARNING:\n"
			     "within --warn, the last attempt failed, on-install failed.\n\n"
			     "  --warn DURATION  default: a quarter of the CRL's validity\n"
			     "  --crit DURATION  default: 1 h, or an eighth of the validity if shorter\n",
			     CLI_O(OPT_WARN) | CLI_O(OPT_CRIT), 0, 0 },
};

/* The default path on a line of its own: under the /usr/local prefix it no longer fits beside the option. */
static const char global_help[] = "  -c, --config FILE  configuration, by default\n"
				  "                     " CRLSYNC_CONFIG_FILE "\n"
				  "  -q, --quiet        errors only (what cron needs)\n"
				  "  -v, --verbose      debug lines too\n"
				  "  -V, --version      print the version and exit\n"
				  "  -h, --help         print this help (or COMMAND's) and exit\n";

const char *cli_cmd_name(enum cli_cmd cmd)
{
	return cmd >= 0 && cmd < CLI_CMD_COUNT ? cmds[cmd].name : NULL;
}

static enum cli_cmd find_cmd(const char *name)
{
	for (int i = 0; i < CLI_CMD_COUNT; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return (enum cli_cmd)i;
	return CLI_CMD_NONE;
}

void cli_usage(FILE *f, enum cli_cmd cmd)
{
	if (cmd == CLI_CMD_NONE) {
		fprintf(f, "usage: crlsync [-c FILE] [-q | -v] COMMAND [ARGS]\n"
			   "       crlsync help [COMMAND] | COMMAND --help | --version\n");
		return;
	}
	fprintf(f, "usage: crlsync [OPTIONS] %s%s%s\n", cmds[cmd].name, cmds[cmd].synopsis[0] ? " " : "",
		cmds[cmd].synopsis);
}

void cli_help(FILE *f, enum cli_cmd cmd)
{
	cli_usage(f, cmd);
	if (cmd != CLI_CMD_NONE) {
		fprintf(f, "\n%s\nOptions -c, -q, -v (before or after the command), exit codes: crlsync help.\n",
			cmds[cmd].details);
		return;
	}
	fprintf(f, "\nKeep CRLs fresh, verified and atomically installed for VPN gateways.\n\nCommands:\n");
	for (int i = 0; i < CLI_CMD_COUNT; i++) {
		int n = fprintf(f, "  %s%s%s", cmds[i].name, cmds[i].synopsis[0] ? " " : "", cmds[i].synopsis);

		if (n > 30)
			fprintf(f, "\n%32s%s\n", "", cmds[i].summary);
		else
			fprintf(f, "%*s%s\n", 32 - n, "", cmds[i].summary);
	}
	fprintf(f, "\nOptions, before or after COMMAND:\n%s\nExit status, the same for every command:\n", global_help);
	for (unsigned i = 0; i < cli_n_exits; i++) {
		const char *m = cli_exits[i].meaning;
		int col = fprintf(f, "  %d  ", cli_exits[i].code), indent = col;

		/* Word-wrapped to 79 columns, continued under the text. */
		while (*m != '\0') {
			size_t w = strcspn(m, " ");

			if (col > indent && col + 1 + (int)w > 79)
				col = fprintf(f, "\n%*s", indent, "") - 1;
			else if (col > indent)
				col += fprintf(f, " ");
			col += fprintf(f, "%.*s", (int)w, m);
			m += w;
			m += strspn(m, " ");
		}
		fputc('\n', f);
	}
	fprintf(f, "\nSee crlsync(8), crlsync.conf(5) and openvpn-plugin-crlsync(8).\n");
}

/* The name of the option getopt_long just refused, for the message. */
static void bad_option(struct cli *c, int argc, char *argv[], const char *what)
{
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (optopt != 0 && optopt < 0x100 && !(arg[0] == '-' && arg[1] == '-'))
		snprintf(c->err, sizeof(c->err), "%s `-%c'", what, optopt);
	else
		snprintf(c->err, sizeof(c->err), "%s `%.*s'", what, (int)strcspn(arg, "="), arg);
}

enum cli_action cli_parse(int argc, char *argv[], struct options *o, struct cli *c, char **args)
{
	bool help = false, version = false, help_cmd = false, operands = false;
	int ch, n_help_args = 0;

	*o = (struct options){ .config = CRLSYNC_CONFIG_FILE };
	memset(c, 0, sizeof(*c));
	c->cmd = CLI_CMD_NONE;
	c->args = args;
	args[0] = NULL;
	c->action = CLI_ERROR;
	/*
	 * "-": every argument comes back in order (a non-option as 1), whatever POSIXLY_CORRECT says, so
	 * that global options work after the command too; ":": a missing argument is told apart. optind
	 * 0 re-initialises getopt for each call (the unit tests parse many command lines).
	 */
	optind = 0;
	opterr = 0;
	for (;;) {
		const char *nonopt = NULL;

		ch = operands ? -1 : getopt_long(argc, argv, "-:c:qvVh", longopts, NULL);
		if (ch == -1) {
			if (optind >= argc)
				break;
			operands = true; /* after `--': everything is an operand */
			nonopt = argv[optind++];
		} else if (ch == 1) {
			nonopt = optarg;
		}
		if (nonopt != NULL) {
			if (c->cmd == CLI_CMD_NONE && !help_cmd) {
				if (strcmp(nonopt, "help") == 0) {
					help_cmd = true;
					continue;
				}
				c->cmd = find_cmd(nonopt);
				if (c->cmd == CLI_CMD_NONE) {
					snprintf(c->err, sizeof(c->err), "unknown command `%.64s'", nonopt);
					return c->action;
				}
			} else if (help_cmd) {
				if (n_help_args++ > 0) {
					snprintf(c->err, sizeof(c->err), "help takes one command, not `%.64s' too", nonopt);
					return c->action;
				}
				c->cmd = find_cmd(nonopt);
				if (c->cmd == CLI_CMD_NONE) {
					snprintf(c->err, sizeof(c->err), "no help for `%.64s': not a command", nonopt);
					return c->action;
				}
				continue;
			}
			args[c->n_args++] = (char *)nonopt;
			args[c->n_args] = NULL;
			continue;
		}
		switch (ch) {
		case 'c': o->config = optarg; continue;
		case 'q': o->quiet = true; continue;
		case 'v': o->verbose++; continue;
		case 'V': version = true; continue;
		case 'h': help = true; continue;
		case ':': bad_option(c, argc, argv, "missing argument to"); return c->action;
		case '?': bad_option(c, argc, argv, "unknown option"); return c->action;
		default: break;
		}
		/* A subcommand's own option: only after that subcommand's name. */
		if (help_cmd || c->cmd == CLI_CMD_NONE || !(cmds[c->cmd].opts & CLI_O(ch))) {
			const char *name = "?";

			for (const struct option *lo = longopts; lo->name != NULL; lo++)
				if (lo->val == ch)
					name = lo->name;
			if (help_cmd || c->cmd == CLI_CMD_NONE)
				snprintf(c->err, sizeof(c->err), "option `--%s' belongs after its command", name);
			else
				snprintf(c->err, sizeof(c->err), "option `--%s' does not apply to `%s'", name,
					 cmds[c->cmd].name);
			return c->action;
		}
		switch (ch) {
		case OPT_PIDFILE: o->pidfile = optarg; break;
		case OPT_NO_PIDFILE: o->no_pidfile = true; break;
		case OPT_SYSLOG: o->syslog = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_WIDE: o->wide = true; break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_PROMETHEUS: o->prometheus = true; break;
		case OPT_WARN: o->warn = optarg; break;
		case OPT_CRIT: o->crit = optarg; break;
		default: break;
		}
	}
	if (version)
		return c->action = CLI_VERSION;
	if (help || help_cmd)
		return c->action = CLI_HELP;
	if (c->cmd == CLI_CMD_NONE) {
		snprintf(c->err, sizeof(c->err), "no command given");
		return c->action;
	}
	if (o->quiet && o->verbose) {
		snprintf(c->err, sizeof(c->err), "-q and -v contradict each other");
		return c->action;
	}
	if (o->pidfile != NULL && o->no_pidfile) {
		snprintf(c->err, sizeof(c->err), "--pidfile and --no-pidfile contradict each other");
		return c->action;
	}
	if (o->json && o->wide) {
		snprintf(c->err, sizeof(c->err), "--json already has every field: not with --wide");
		return c->action;
	}
	if (o->prometheus && (o->json || o->wide)) {
		snprintf(c->err, sizeof(c->err), "--prometheus is a format of its own: not with --%s", o->json ? "json" : "wide");
		return c->action;
	}
	if (c->n_args - 1 < cmds[c->cmd].min_args) {
		snprintf(c->err, sizeof(c->err), "%s: missing argument: %s", cmds[c->cmd].name, cmds[c->cmd].synopsis);
		return c->action;
	}
	if (cmds[c->cmd].max_args >= 0 && c->n_args - 1 > cmds[c->cmd].max_args) {
		snprintf(c->err, sizeof(c->err), "%s: unexpected argument `%.64s'", cmds[c->cmd].name,
			 args[cmds[c->cmd].max_args + 1]);
		return c->action;
	}
	if (c->cmd == CLI_CMD_VERIFY && o->ca == NULL) {
		snprintf(c->err, sizeof(c->err), "verify: --ca CAFILE is required");
		return c->action;
	}
	return c->action = CLI_RUN;
}
