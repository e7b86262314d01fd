/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of fetcher/cli.c: the command line of crlsync (getopt_long) and its one exit-code table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

#define MAX_ARGS 16

struct run {
	struct options o;
	struct cli c;
	char *args[MAX_ARGS + 1];
	char *argv[MAX_ARGS + 1];
	enum cli_action action;
};

/* Parses the NULL-terminated words after "crlsync". */
static struct run *parse_v(struct run *r, const char *first, va_list ap)
{
	int argc = 0;

	memset(r, 0, sizeof(*r));
	r->argv[argc++] = (char *)"crlsync";
	for (const char *w = first; w != NULL; w = va_arg(ap, const char *)) {
		assert_true(argc < MAX_ARGS);
		r->argv[argc++] = (char *)w;
	}
	r->argv[argc] = NULL;
	r->action = cli_parse(argc, r->argv, &r->o, &r->c, r->args);
	return r;
}

static struct run *parse(struct run *r, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	parse_v(r, first, ap);
	va_end(ap);
	return r;
}

static void assert_error(struct run *r, const char *needle)
{
	if (r->action != CLI_ERROR || strstr(r->c.err, needle) == NULL)
		fail_msg("expected an error with \"%s\", got action %d, err \"%s\"", needle, r->action, r->c.err);
}

static void cli_parse__no_arguments__usage_error(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, NULL), "no command given");
	assert_int_equal(r.c.cmd, CLI_CMD_NONE);
}

static void cli_parse__plain_command__runs_with_defaults(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "fetch", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_int_equal(r.c.cmd, CLI_CMD_FETCH);
	assert_int_equal(r.c.n_args, 1);
	assert_string_equal(r.c.args[0], "fetch");
	assert_null(r.c.args[1]);
	assert_string_equal(r.o.config, CRLSYNC_CONFIG_FILE);
	assert_false(r.o.quiet);
	assert_int_equal(r.o.verbose, 0);
	assert_null(r.o.pidfile);
}

static void cli_parse__global_options_before_command__parsed(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-c", "/tmp/a.conf", "-q", "fetch", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_string_equal(r.o.config, "/tmp/a.conf");
	assert_true(r.o.quiet);
}

static void cli_parse__global_options_after_command__parsed(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "status", "--wide", "--config", "/tmp/b.conf", "-vv", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_int_equal(r.c.cmd, CLI_CMD_STATUS);
	assert_string_equal(r.o.config, "/tmp/b.conf");
	assert_int_equal(r.o.verbose, 2);
	assert_true(r.o.wide);
	assert_int_equal(r.c.n_args, 1);
}

static void cli_parse__posixly_correct__options_after_command_still_parsed(void **state)
{
	struct run r;

	(void)state;
	setenv("POSIXLY_CORRECT", "1", 1);
	parse(&r, "fetch", "-q", NULL);
	unsetenv("POSIXLY_CORRECT");
	assert_int_equal(r.action, CLI_RUN);
	assert_true(r.o.quiet);
}

static void cli_parse__option_forms__same_result(void **state)
{
	static const char *const forms[][3] = {
		{ "-c", "/x.conf", NULL }, { "-c/x.conf", NULL, NULL }, { "--config", "/x.conf", NULL },
		{ "--config=/x.conf", NULL, NULL }, { "--conf=/x.conf", NULL, NULL }, /* unambiguous prefix */
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		parse(&r, "fetch", forms[i][0], forms[i][1], NULL);
		assert_int_equal(r.action, CLI_RUN);
		assert_string_equal(r.o.config, "/x.conf");
	}
}

static void cli_parse__reparse__starts_from_defaults(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "-q", "-c", "/y.conf", "daemon", "--pidfile", "/p", "--syslog", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_string_equal(r.o.pidfile, "/p");
	assert_true(r.o.syslog);
	parse(&r, "daemon", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_string_equal(r.o.config, CRLSYNC_CONFIG_FILE);
	assert_false(r.o.quiet);
	assert_null(r.o.pidfile);
	assert_false(r.o.syslog);
}

static void cli_parse__unknown_option__usage_error_names_it(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "fetch", "--bogus=1", NULL), "unknown option `--bogus'");
	assert_error(parse(&r, "-x", "fetch", NULL), "unknown option `-x'");
	assert_error(parse(&r, "fetch", "-qx", NULL), "unknown option `-x'");
}

static void cli_parse__missing_option_argument__usage_error(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "fetch", "-c", NULL), "missing argument to `-c'");
	assert_error(parse(&r, "refresh", "--pidfile", NULL), "missing argument to `--pidfile'");
}

static void cli_parse__command_option_before_command__refused(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "--json", "status", NULL), "`--json' belongs after its command");
	/* twin: after the command it is the command's own */
	parse(&r, "status", "--json", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_true(r.o.json);
}

static void cli_parse__option_of_another_command__refused(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "fetch", "--json", NULL), "`--json' does not apply to `fetch'");
	assert_error(parse(&r, "status", "--pidfile", "/p", NULL), "`--pidfile' does not apply to `status'");
	assert_int_equal(r.c.cmd, CLI_CMD_STATUS); /* the usage shown is status' */
}

static void cli_parse__unknown_command__refused(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "fecth", NULL), "unknown command `fecth'");
}

static void cli_parse__version__version_action(void **state)
{
	struct run r;

	(void)state;
	assert_int_equal(parse(&r, "-V", NULL)->action, CLI_VERSION);
	assert_int_equal(parse(&r, "--version", NULL)->action, CLI_VERSION);
	assert_int_equal(parse(&r, "status", "--version", NULL)->action, CLI_VERSION);
}

static void cli_parse__help__general_or_command_help(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "help", NULL);
	assert_int_equal(r.action, CLI_HELP);
	assert_int_equal(r.c.cmd, CLI_CMD_NONE);
	parse(&r, "--help", NULL);
	assert_int_equal(r.action, CLI_HELP);
	assert_int_equal(r.c.cmd, CLI_CMD_NONE);
	parse(&r, "help", "verify", NULL);
	assert_int_equal(r.action, CLI_HELP);
	assert_int_equal(r.c.cmd, CLI_CMD_VERIFY);
	/* COMMAND --help needs none of the command's operands */
	parse(&r, "verify", "--help", NULL);
	assert_int_equal(r.action, CLI_HELP);
	assert_int_equal(r.c.cmd, CLI_CMD_VERIFY);
	parse(&r, "check", "-h", NULL);
	assert_int_equal(r.action, CLI_HELP);
	assert_int_equal(r.c.cmd, CLI_CMD_CHECK);
}

static void cli_parse__help_of_unknown_or_two_commands__refused(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "help", "bogus", NULL), "no help for `bogus'");
	assert_error(parse(&r, "help", "fetch", "status", NULL), "help takes one command");
}

static void cli_parse__operands_after_double_dash__kept(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "check", "-q", "--", "-odd.pem", "--wide", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_true(r.o.quiet);
	assert_false(r.o.wide);
	assert_int_equal(r.c.n_args, 3);
	assert_string_equal(r.c.args[1], "-odd.pem");
	assert_string_equal(r.c.args[2], "--wide");
	assert_null(r.c.args[3]);
}

static void cli_parse__operand_counts__checked_per_command(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "check", NULL), "check: missing argument");
	parse(&r, "check", "a.pem", "b.pem", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_int_equal(r.c.n_args, 3);
	assert_error(parse(&r, "fetch", "extra", NULL), "fetch: unexpected argument `extra'");
	assert_error(parse(&r, "verify", "a.crl", "b.crl", "--ca", "ca.pem", NULL), "unexpected argument `b.crl'");
}

static void cli_parse__verify_without_ca__usage_error(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "verify", "a.crl", NULL), "--ca CAFILE is required");
	parse(&r, "verify", "--ca", "ca.pem", "a.crl", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_string_equal(r.o.ca, "ca.pem");
	assert_string_equal(r.c.args[1], "a.crl");
}

static void cli_parse__contradicting_options__refused(void **state)
{
	struct run r;

	(void)state;
	assert_error(parse(&r, "fetch", "-q", "-v", NULL), "-q and -v");
	assert_error(parse(&r, "daemon", "--pidfile", "/p", "--no-pidfile", NULL), "--no-pidfile");
	assert_error(parse(&r, "status", "--json", "--wide", NULL), "not with --wide");
	parse(&r, "daemon", "--no-pidfile", NULL);
	assert_int_equal(r.action, CLI_RUN);
	assert_true(r.o.no_pidfile);
}

static void exit_table__codes__fixed_and_distinct(void **state)
{
	(void)state;
	/* Scripts and the man page rely on these numbers: changing one is an incompatible change. */
	assert_int_equal(EXIT_OK, 0);
	assert_int_equal(EXIT_FAIL, 1);
	assert_int_equal(EXIT_CONFIG, 2);
	assert_int_equal(EXIT_USAGE, 3);
	assert_int_equal(EXIT_UNDECIDED, 4);
	assert_int_equal(cli_n_exits, 5);
	for (unsigned i = 0; i < cli_n_exits; i++) {
		assert_int_equal(cli_exits[i].code, (int)i);
		assert_true(strlen(cli_exits[i].meaning) > 10);
	}
}

static char *help_text(enum cli_cmd cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	cli_help(f, cmd);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void exit_table__help__lists_every_code(void **state)
{
	char *h = help_text(CLI_CMD_NONE), line[16];

	(void)state;
	for (unsigned i = 0; i < cli_n_exits; i++) {
		snprintf(line, sizeof(line), "\n  %d  ", cli_exits[i].code);
		if (strstr(h, line) == NULL)
			fail_msg("crlsync help lacks exit code %d:\n%s", cli_exits[i].code, h);
	}
	free(h);
}

static void exit_table__man_page__lists_every_code(void **state)
{
	char path[4096], *text = NULL, *sect, want[32];
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/crlsync.8", CRLSYNC_SOURCE_DIR);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_not_equal(getdelim(&text, &len, '\0', f), -1);
	fclose(f);
	sect = strstr(text, ".SH EXIT STATUS");
	if (sect == NULL)
		fail_msg("%s has no EXIT STATUS section", path);
	for (unsigned i = 0; i < cli_n_exits; i++) {
		snprintf(want, sizeof(want), "\n.B %d\n", cli_exits[i].code);
		if (strstr(sect, want) == NULL)
			fail_msg("%s: EXIT STATUS lacks \".B %d\"", path, cli_exits[i].code);
	}
	free(text);
}

static void cli_help__every_command__fits_80_columns(void **state)
{
	(void)state;
	for (int cmd = CLI_CMD_NONE; cmd < CLI_CMD_COUNT; cmd++) {
		char *h = help_text((enum cli_cmd)cmd);

		for (char *l = h; *l != '\0';) {
			size_t n = strcspn(l, "\n");

			if (n > 79)
				fail_msg("help of %s: line longer than 79 columns: %.*s", cmd < 0 ? "crlsync" : cli_cmd_name(cmd),
					 (int)n, l);
			l += n + (l[n] != '\0');
		}
		if (cmd != CLI_CMD_NONE)
			assert_non_null(strstr(h, cli_cmd_name((enum cli_cmd)cmd)));
		free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cli_parse__no_arguments__usage_error),
		cmocka_unit_test(cli_parse__plain_command__runs_with_defaults),
		cmocka_unit_test(cli_parse__global_options_before_command__parsed),
		cmocka_unit_test(cli_parse__global_options_after_command__parsed),
		cmocka_unit_test(cli_parse__posixly_correct__options_after_command_still_parsed),
		cmocka_unit_test(cli_parse__option_forms__same_result),
		cmocka_unit_test(cli_parse__reparse__starts_from_defaults),
		cmocka_unit_test(cli_parse__unknown_option__usage_error_names_it),
		cmocka_unit_test(cli_parse__missing_option_argument__usage_error),
		cmocka_unit_test(cli_parse__command_option_before_command__refused),
		cmocka_unit_test(cli_parse__option_of_another_command__refused),
		cmocka_unit_test(cli_parse__unknown_command__refused),
		cmocka_unit_test(cli_parse__version__version_action),
		cmocka_unit_test(cli_parse__help__general_or_command_help),
		cmocka_unit_test(cli_parse__help_of_unknown_or_two_commands__refused),
		cmocka_unit_test(cli_parse__operands_after_double_dash__kept),
		cmocka_unit_test(cli_parse__operand_counts__checked_per_command),
		cmocka_unit_test(cli_parse__verify_without_ca__usage_error),
		cmocka_unit_test(cli_parse__contradicting_options__refused),
		cmocka_unit_test(exit_table__codes__fixed_and_distinct),
		cmocka_unit_test(exit_table__help__lists_every_code),
		cmocka_unit_test(exit_table__man_page__lists_every_code),
		cmocka_unit_test(cli_help__every_command__fits_80_columns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
