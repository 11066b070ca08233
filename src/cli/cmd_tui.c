/* cmd_tui.c: `lumen tui FILE.lumen` (also `lumen FILE.lumen`): the terminal workbench. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ui/ui.h"
#include "cli.h"

static void usage(FILE *f)
{
	fputs("usage: lumen tui FILE.lumen [--model NAME] [--columns A,B,...] [--ascii] [--mono]\n"
	      "       lumen tui FILE.lumen --headless [--keys KEYS] [--frames N] [--size WxH]\n"
	      "                 [--dump | --dump-all] [--stats]\n"
	      "Opens the terminal workbench on the cohort screen (press ? for the keys).\n"
	      "  --model NAME     show this model's predictions first (default: the newest)\n"
	      "  --columns LIST   cohort columns to show (default: groups, treatment, features)\n"
	      "  --ascii          no Unicode blocks or braille\n"
	      "  --mono           no colour (also when NO_COLOR is set)\n"
	      "  --headless       render into a virtual screen and replay --keys (no terminal)\n"
	      "  --keys KEYS      keys to replay: characters, \\n \\t \\e, <down> <up> <pgdn>\n"
	      "                   <pgup> <home> <end> <left> <right> <enter> <esc> <tab> <bs>\n"
	      "                   <wheelup> <wheeldown> <resize:WxH> <C-u> <C-w>\n"
	      "  --frames N       stop after N frames (default: one per key, plus the first)\n"
	      "  --size WxH       virtual screen size (default 80x24)\n"
	      "  --dump           print the last frame as text\n"
	      "  --dump-all       print every frame as text, each followed by a form-feed line\n"
	      "  --stats          print the time of each frame on stderr\n",
	      f);
}

int cmd_tui(int argc, char **argv)
{
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'}, {"columns", required_argument, NULL, 'c'},
		{"ascii", no_argument, NULL, 'a'},       {"mono", no_argument, NULL, 'M'},
		{"headless", no_argument, NULL, 'H'},    {"keys", required_argument, NULL, 'k'},
		{"frames", required_argument, NULL, 'f'}, {"size", required_argument, NULL, 's'},
		{"dump", no_argument, NULL, 'd'},        {"stats", no_argument, NULL, 'S'},
		{"dump-all", no_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	ui_opts o;
	memset(&o, 0, sizeof o);
	o.width = 80, o.height = 24;
	const char *file = NULL;
	int c;
	/* `lumen FILE.lumen` arrives here with the program's name as argv[0] and the file after
	 * it, so both forms parse alike */
	optind = 0;
	while ((c = getopt_long(argc, argv, "m:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case 'c': o.columns = optarg; break;
		case 'a': o.ascii = 1; break;
		case 'M': o.mono = 1; break;
		case 'H': o.headless = 1; break;
		case 'k': o.keys = optarg; break;
		case 'd': o.dump = 1; break;
		case 'D': o.dump = 2; break;
		case 'S': o.stats = 1; break;
		case 'f': {
			long n;
			if (parse_long(optarg, &n) || n < 1)
				return cli_usage_error("tui", "--frames: expected a positive number, got '%s'", optarg);
			o.frames = n;
			break;
		}
		case 's':
			if (sscanf(optarg, "%dx%d", &o.width, &o.height) != 2 || o.width < 1 ||
			    o.height < 1 || o.width > 1000 || o.height > 1000)
				return cli_usage_error("tui", "--size: expected WxH such as 80x24, got '%s'", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: return cli_usage_error("tui", "unknown option");
		}
	}
	if (optind < argc) {
		if (file)
			return cli_usage_error("tui", "one workbench file, please");
		file = argv[optind++];
	}
	if (optind < argc)
		return cli_usage_error("tui", "unexpected argument '%s'", argv[optind]);
	if (!file)
		return cli_usage_error("tui", "which workbench file? (lumen tui FILE.lumen)");
	if (!o.headless && (o.keys || o.dump || o.frames))
		return cli_usage_error("tui", "--keys, --frames and --dump need --headless");
	o.path = file;
	lm_err err = {0};
	int s = ui_run(&o, &err);
	if (s)
		lm_report("tui", &err);
	return s;
}
