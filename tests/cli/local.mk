## tests/cli: the command-line tool (no root needed).
TESTS += tests/cli/cli.sh
dist_noinst_SCRIPTS += tests/cli/cli.sh
