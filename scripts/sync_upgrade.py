#!/usr/bin/env python3
"""Keep the upgrade script under construction in step with src/sql.

    scripts/sync_upgrade.py src/upgrade/privacy_tags--1.1--1.2.sql [NAME ...]

Every CREATE [OR REPLACE] FUNCTION/PROCEDURE block with a $$ body in the
upgrade script is replaced by its current text from src/sql/*.sql (as
CREATE OR REPLACE), matched by name and first line.  Each NAME given (a
function of src/sql not yet in the script) is appended before the line
"-- New and changed functions: end".  Never run it on a released script.
"""
import glob
import re
import sys

HEAD = re.compile(r'^CREATE (?:OR REPLACE )?(FUNCTION|PROCEDURE) (privacy_tags\.\w+)\((.*)$')


def blocks(lines):
    """(key, start, end) of every $$-bodied function block."""
    i = 0
    while i < len(lines):
        m = HEAD.match(lines[i])
        if not m:
            i += 1
            continue
        j = i
        in_body = False
        has_body = False
        while j < len(lines):
            n = lines[j].count('$$')
            if n:
                has_body = True
            if n % 2:
                in_body = not in_body
            if not in_body and lines[j].rstrip().endswith(';'):
                break
            j += 1
        if has_body:
            yield (m.group(2), m.group(3).strip()), i, j
        i = j + 1


def main():
    target = sys.argv[1]
    new_names = sys.argv[2:]
    src = {}
    for path in sorted(glob.glob('src/sql/*.sql')):
        lines = open(path).read().split('\n')
        for key, a, b in blocks(lines):
            text = lines[a:b + 1]
            text[0] = re.sub(r'^CREATE (?:OR REPLACE )?', 'CREATE OR REPLACE ', text[0])
            src[key] = text
    lines = open(target).read().split('\n')
    out = []
    last = 0
    done = set()
    for key, a, b in blocks(lines):
        out += lines[last:a]
        if key in src:
            out += src[key]
            done.add(key)
        else:
            print('not in src/sql, left as it is:', key[0], file=sys.stderr)
            out += lines[a:b + 1]
        last = b + 1
    out += lines[last:]
    for name in new_names:
        keys = [k for k in src if k[0] == 'privacy_tags.' + name]
        if not keys:
            sys.exit('no function %s in src/sql' % name)
        marker = out.index('-- New and changed functions: end')
        for k in keys:
            if k in done:
                continue
            out[marker:marker] = src[k] + ['']
            marker += len(src[k]) + 1
    open(target, 'w').write('\n'.join(out))


main()
