/* cmd_import.c — `callvault import FILE…` */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../import.h"
#include "cli.h"

static void progress(const struct ingest_stats *st, double secs, void *arg)
{
	fprintf(stderr, "\r\033[Kimport: %lld records, %.0f records/s",
		(long long)st->read, secs > 0 ? (double)st->read / secs : 0.0);
	fflush(stderr);
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "batch", required_argument, NULL, 'b' },
		{ "source", required_argument, NULL, 's' },
		{ "location", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o = { .source = SRC_IMPORT };
	long v;
	int c;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'b':
			if (!cli_parse_long(optarg, 1, 1000000, &v))
				return cli_fail(CV_EXIT_USAGE, "import",
					"--batch needs a number from 1 to "
					"1000000");
			o.batch_records = (int)v;
			break;
		case 's':
			if (!store_source_parse(optarg, &o.source))
				return cli_fail(CV_EXIT_USAGE, "import",
					"--source must be api, webhook, "
					"import or restore");
			break;
		case 'l': o.location_hint = optarg; break;
		default: return CV_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_fail(CV_EXIT_USAGE, "import",
			"name at least one FILE (or - for standard input)");
	bool fancy = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
	if (fancy)
		o.progress = progress;
	struct store *s = cli_open_store(cli, "import", 0);
	if (!s)
		return CV_EXIT_FAIL;
	struct ingest_stats st = { 0 };
	int code = CV_EXIT_OK;
	for (int i = optind; i < argc && code == CV_EXIT_OK; i++) {
		const char *name = argv[i];
		FILE *f = strcmp(name, "-") == 0 ? stdin : fopen(name, "rb");
		if (!f) {
			code = cli_fail(CV_EXIT_FAIL, "import",
				"cannot open %s: %s", name, strerror(errno));
			break;
		}
		char *err = NULL;
		enum cv_err rc = import_stream(s, f, name, &o, &st, &err);
		if (f != stdin)
			fclose(f);
		if (rc != CV_OK) {
			code = cli_fail(CV_EXIT_FAIL, "import", "%s: %s", name,
				err ? err : cv_strerror(rc));
		}
		free(err);
	}
	if (fancy)
		fputs("\r\033[K", stderr);
	store_close(s);
	printf("read %lld, new %lld, updated %lld, unchanged %lld, "
	       "quarantined %lld",
		(long long)st.read, (long long)st.added, (long long)st.updated,
		(long long)st.unchanged, (long long)st.quarantined);
	if (st.kept)
		printf(", kept not current %lld", (long long)st.kept);
	if (st.disposed)
		printf(", disposed %lld", (long long)st.disposed);
	putchar('\n');
	return code;
}

const struct cli_cmd cmd_import = {
	.name = "import",
	.summary = "import call logs from JSONL files (or - for stdin)",
	.help = "usage: callvault [--db PATH] import [--batch N] "
		"[--source NAME]\n"
		"                                [--location LOC] FILE…\n"
		"\n"
		"Each line is one HighLevel call-log object, one "
		"VoiceAiCallEnd webhook\nbody, or one list response "
		"{\"total\":…,\"callLogs\":[…]}. A call already\nstored "
		"unchanged only has its last-seen time updated; a changed "
		"one gets\na new version. Lines that fail validation are "
		"kept in quarantine with\ntheir reason (see `callvault "
		"quarantine`) and the rest is imported.\n"
		"\n"
		"  --batch N      records per transaction (default 20000)\n"
		"  --location LOC locationId for records that carry none "
		"(the REST shape\n                 has no locationId)\n"
		"  --source NAME  record the versions as api, webhook, "
		"import (default)\n                 or restore (a label: "
		"imported records are trusted as\n                 `import`, "
		"the least, whatever it says)\n"
		"\nA changed record that is trusted less than the call's "
		"current version\n(imports always are, unless that came by "
		"import too) is kept as a\nversion that is not current. "
		"Calls that were disposed of (purged) are\ndropped, and new "
		"calls a location's trust policy does not let imports\n"
		"create are quarantined (`callvault trust --help`).\n"
		"\nPrints `read N, new N, updated N, unchanged N, "
		"quarantined N`, then\n`, kept not current N` and `, "
		"disposed N` when not 0; exits 0\nwhen every file was read, "
		"even with quarantined lines.\n",
	.run = run,
};
