#!/usr/bin/python3
"""Tells whether an AppArmor profile lets its main profile execute a path.

Reads a profile preprocessed by `apparmor_parser -p` (includes expanded) on
standard input; exits 0 and prints the rule when an exec rule of the main
profile covers PATH and no deny rule does, 1 when not, 2 on usage errors.
AppArmor checks the resolved path of an executed symlink, so PATH is the target.
Uses python3-apparmor (Debian's /usr/bin/python3), the parser aa-logprof uses.
"""
import sys

from apparmor.rule.file import FileRule


def main_profile_rules(lines):
    """Yields the lines at depth 1 of the first profile, skipping child profiles."""
    depth = 0
    seen_profile = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if depth == 1:
            yield line
        depth += line.count("{") - line.count("}")
        if depth > 0:
            seen_profile = True
        elif seen_profile:
            return


def main(argv):
    if len(argv) != 2:
        print("usage: apparmor_parser -p PROFILE | aa-allows-exec.py PATH", file=sys.stderr)
        return 2
    path = argv[1]
    allowing = None
    for line in main_profile_rules(sys.stdin):
        if not FileRule.match(line):
            continue
        rule = FileRule.parse(line)
        if not rule.exec_perms or rule.all_paths or not rule.path.match(path):
            continue
        if rule.deny:
            print(f"denied by: {line}")
            return 1
        allowing = allowing or line
    if allowing is None:
        print(f"no exec rule covers {path}")
        return 1
    print(f"allowed by: {allowing}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
