## tests/hooks: the hook and explain under valgrind (skips without valgrind,
## and in ASan builds).
TESTS += tests/hooks/valgrind-hook.sh
dist_noinst_SCRIPTS += tests/hooks/valgrind-hook.sh

# What the hook maps: none of the libraries only the command-line tool needs.
TESTS += tests/hooks/hook-libraries.sh
dist_noinst_SCRIPTS += tests/hooks/hook-libraries.sh
