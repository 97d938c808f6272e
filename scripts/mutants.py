#!/usr/bin/env python3
"""Mutation testing by coverage: the mutants gremlins finds, each tested
with only the tests that reach it. A faster companion of mutation.sh for a
loaded machine (docs/TESTING.md); the statuses mean what gremlins' do.

    scripts/mutation.sh is the reference run. This script:
    1. copies the module to WORK (the worktree is never modified),
    2. runs each top-level test of PKG once with a coverage profile,
    3. lists the mutants of FILE... with `gremlins unleash --dry-run`,
    4. applies each mutant in WORK, builds the test binary and runs the
       tests whose coverage reaches the mutant's position (failfast).

    scripts/mutants.py PKG FILE... [--only LINE-LINE] [--hand SPEC]

PKG is a package directory (bitrix, events); FILE are its files to mutate.
--only limits the mutants to a line range. --hand SPEC adds mutants by
hand, one a line: "FILE:COVLINE:COVCOL MUTLINE OLD=>NEW" (OLD must occur
once on line MUTLINE; COVLINE:COVCOL picks the tests, e.g. the line of the
switch whose case condition is mutated: gremlins never mutates those).
Output: one line per mutant (KILLED, LIVED, NOT COVERED, NOT VIABLE,
TIMED OUT) on stdout. Each mutant's tests run with -test.short first and,
if they pass, again in full. Environment: WORK (default
$TMPDIR/b24go-mutants), SRC (the module to copy; default this checkout,
e.g. a `git archive` export of the commit being measured), TIMEOUT per
test run in seconds (default 240). Runs niced, one at a time.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get('SRC') or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = 'github.com/b24go/sdk'
WORK = os.environ.get('WORK', os.path.join(tempfile.gettempdir(), 'b24go-mutants'))
TIMEOUT = int(os.environ.get('TIMEOUT', '240'))
ENV = dict(os.environ, GOFLAGS='-trimpath')
NICE = ['nice', '-n', '10']

OPS = {
    'CONDITIONALS_NEGATION': {'==': '!=', '!=': '==', '<': '>=', '>=': '<', '>': '<=', '<=': '>'},
    'CONDITIONALS_BOUNDARY': {'<': '<=', '<=': '<', '>': '>=', '>=': '>'},
    'ARITHMETIC_BASE': {'+': '-', '-': '+', '*': '/', '/': '*', '%': '*'},
    'INCREMENT_DECREMENT': {'++': '--', '--': '++'},
}


def copy_module():
    if os.path.exists(WORK):
        shutil.rmtree(WORK)
    shutil.copytree(ROOT, WORK, ignore=shutil.ignore_patterns('.git'))


def coverage(pkg):
    """Per-test coverage: file -> [(startline, startcol, endline, endcol, test)]."""
    cov = os.path.join(WORK, '.cov-' + pkg.replace('/', '_'))
    os.makedirs(cov, exist_ok=True)
    binary = os.path.join(cov, 'cov.test')
    subprocess.run(NICE + ['go', 'test', '-c', '-cover', '-covermode=set', '-coverpkg=%s/%s' % (MODULE, pkg),
                           '-o', binary, './' + pkg + '/'], cwd=WORK, env=ENV, check=True)
    tests = subprocess.run([binary, '-test.list', '.*'], cwd=os.path.join(WORK, pkg), capture_output=True,
                           text=True, check=True).stdout.split()
    blocks = {}
    prefix = '%s/%s/' % (MODULE, pkg)
    for t in tests:
        if t.startswith('Benchmark'):
            continue
        prof = os.path.join(cov, t + '.out')
        subprocess.run(NICE + [binary, '-test.run', '^%s$' % t, '-test.cpu', '1', '-test.count', '1',
                               '-test.coverprofile', prof], cwd=os.path.join(WORK, pkg), env=ENV,
                       capture_output=True)
        if not os.path.exists(prof):
            continue
        for ln in open(prof):
            m = re.match(r'(.*):(\d+)\.(\d+),(\d+)\.(\d+) \d+ (\d+)', ln)
            if m and m.group(6) != '0' and m.group(1).startswith(prefix):
                f = m.group(1)[len(prefix):]
                blocks.setdefault(f, []).append(tuple(int(m.group(i)) for i in range(2, 6)) + (t,))
    return blocks


def covering(blocks, f, line, col):
    return sorted({b[4] for b in blocks.get(f, []) if b[:2] <= (line, col) <= b[2:4]})


def gremlins_mutants(pkg, files):
    """The RUNNABLE and NOT COVERED mutants gremlins lists for files."""
    excl = ['-E', '/']
    for f in sorted(os.listdir(os.path.join(WORK, pkg))):
        if f.endswith('.go') and not f.endswith('_test.go') and f not in files:
            excl += ['-E', '^%s$' % re.escape(f)]
    out = subprocess.run(NICE + ['gremlins', 'unleash', '--dry-run'] + excl + ['./' + pkg], cwd=WORK, env=ENV,
                         capture_output=True, text=True).stdout
    muts = []
    for m in re.finditer(r'(RUNNABLE|NOT COVERED) ([A-Z_]+) at (\S+\.go):(\d+):(\d+)', out):
        muts.append((m.group(2), m.group(3), int(m.group(4)), int(m.group(5)), None))
    return sorted(set(muts), key=lambda x: (x[1], x[2], x[3], x[0]))


def mutate(line, typ, col, hand):
    if typ == 'HAND':
        old, new = hand
        if line.count(old) != 1:
            raise ValueError('%r is not once on the line' % old)
        return line.replace(old, new)
    i = col - 1
    if typ == 'INVERT_NEGATIVES':
        if line[i] != '-':
            raise ValueError('no minus')
        return line[:i] + '+' + line[i + 1:]  # as gremlins: token.SUB -> token.ADD
    for op in sorted(OPS[typ], key=len, reverse=True):
        if line.startswith(op, i) and not (typ == 'ARITHMETIC_BASE' and line.startswith(op * 2, i)):
            return line[:i] + OPS[typ][op] + line[i + len(op):]
    raise ValueError('no operator at column %d' % col)


def main():
    args = sys.argv[1:]
    only, hand_file = None, None
    if '--only' in args:
        i = args.index('--only')
        lo, hi = args[i + 1].split('-')
        only = (int(lo), int(hi))
        del args[i:i + 2]
    if '--hand' in args:
        i = args.index('--hand')
        hand_file = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    pkg, files = args[0], args[1:]
    copy_module()
    muts = gremlins_mutants(pkg, files)
    if only:
        muts = [m for m in muts if only[0] <= m[2] <= only[1]]
    if hand_file:
        for ln in open(hand_file):
            m = re.match(r'(\S+\.go):(\d+):(\d+) (\d+) (.*)=>(.*)$', ln.rstrip('\n'))
            if m:
                muts.append(('HAND', m.group(1), int(m.group(2)), int(m.group(3)),
                             (int(m.group(4)), m.group(5), m.group(6))))
    blocks = coverage(pkg)
    current = {}

    def restore(*_):
        for p, src in current.items():
            open(p, 'w').write(src)
        sys.exit(1)
    signal.signal(signal.SIGTERM, restore)
    signal.signal(signal.SIGINT, restore)
    binary = os.path.join(WORK, '.mutant.test')
    for typ, f, line, col, hand in muts:
        tag = '%s at %s:%d:%d' % (typ, f, line, col)
        if hand:
            tag = 'HAND at %s:%d %s => %s' % (f, hand[0], hand[1].strip(), hand[2].strip())
        tests = covering(blocks, f, line, col)
        if not tests:
            print('NOT COVERED', tag, flush=True)
            continue
        path = os.path.join(WORK, pkg, f)
        src = open(path).read()
        lines = src.split('\n')
        mline = hand[0] if hand else line
        try:
            lines[mline - 1] = mutate(lines[mline - 1], typ, col, hand[1:] if hand else None)
        except ValueError as e:
            print('SKIPPED', tag, e, flush=True)
            continue
        current[path] = src
        open(path, 'w').write('\n'.join(lines))
        start = time.time()
        try:
            b = subprocess.run(NICE + ['go', 'test', '-c', '-ldflags=-s -w', '-o', binary, './' + pkg + '/'],
                               cwd=WORK, env=ENV, capture_output=True, text=True)
            if b.returncode != 0:
                status, why = 'NOT VIABLE', b.stderr.strip().split('\n')[-1][:100]
            else:
                try:
                    # -short first (skips the seconds-long scans); a mutant that
                    # lives there is run again with every covering test in full,
                    # so KILLED and LIVED mean what they would without it.
                    for short in (['-test.short'], []):
                        r = subprocess.run(NICE + [binary, '-test.run', '^(%s)$' % '|'.join(tests), '-test.failfast',
                                                   '-test.count', '1', '-test.cpu', '1', '-test.timeout', '%ds' % TIMEOUT] + short,
                                           cwd=os.path.join(WORK, pkg), capture_output=True, text=True,
                                           timeout=TIMEOUT + 30)
                        if r.returncode != 0:
                            break
                    fails = [x for x in r.stdout.split('\n') if x.startswith('--- FAIL') or 'panic:' in x]
                    status = 'LIVED' if r.returncode == 0 else 'KILLED'
                    why = (fails[0] if fails else '')[:100]
                except subprocess.TimeoutExpired:
                    status, why = 'TIMED OUT', ''
        finally:
            open(path, 'w').write(src)
            current.clear()
        print('%s %s [%ds, %d tests] %s' % (status, tag, time.time() - start, len(tests), why), flush=True)


if __name__ == '__main__':
    main()
