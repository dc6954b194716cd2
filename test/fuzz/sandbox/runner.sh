#!/bin/sh
# Runs inside the fuzz sandbox's chroot (enter.sh). Each case folder under /fuzz/cases holds NNN.cmd files (a command
# line as the SSH server receives it) and optional NNN.stdin, run in name order from the same pristine state.
# Per command it leaves NNN.rc, NNN.out and NNN.err; per case argv.log (the stubs' records), canaries (every
# fuzz-canary-* file anywhere on the sandbox's root) and pwned (ids the payload command was run with).
set -u
for case in /fuzz/cases/*/; do
    case=${case%/}
    for d in etc var home root run tmp usr/share usr/local opt; do rm -rf "/${d:?}"; done
    cp -a /fuzz/seed/. /
    rm -rf /fuzz/pwned
    : >/fuzz/argv.log
    for cmd in "$case"/*.cmd; do
        [ -e "$cmd" ] || continue
        base=${cmd%.cmd}
        input=/dev/null
        [ ! -e "$base.stdin" ] || input=$base.stdin
        # As sshd runs a command: the login shell's -c, in the user's home, with the command's stdin.
        (cd /root && timeout -s KILL 60 sh -c "$(cat "$cmd")" <"$input" >"$base.out" 2>"$base.err")
        echo $? >"$base.rc"
    done
    mv /fuzz/argv.log "$case/argv.log"
    find / -xdev -name 'fuzz-canary-*' >"$case/canaries" 2>/dev/null || true
    ls /fuzz/pwned >"$case/pwned" 2>/dev/null || : >"$case/pwned"
done
