#!/bin/sh
# A logging stand-in for a host command inside the fuzz sandbox (test/fuzz/sandbox.ts): it records its argv in
# /fuzz/argv.log (name, count, then each argument, NUL-separated: no argument can hold a NUL) and prints what the
# real command prints in the plan scripts' happy path, so the scripts run to their end. It never runs what it is given,
# except `sudo` and `runuser`, which run their command as the real ones do (the sandbox is root already).
name=${0##*/}
{
    printf '%s\0%d\0' "$name" "$#"
    [ "$#" -eq 0 ] || printf '%s\0' "$@"
} >>/fuzz/argv.log
has() { for a in "$@"; do case "$a" in *"$want"*) return 0 ;; esac; done; return 1; }
output_of() { # the value after -o / --output / --output=
    prev=
    for a in "$@"; do
        case "$a" in --output=*) echo "${a#--output=}"; return ;; esac
        case "$prev" in -o | --output) echo "$a"; return ;; esac
        prev=$a
    done
}
case "$name" in
fuzzpwn)
    # The payload command of the hostile inputs: if it ever runs, the case escaped.
    mkdir -p /fuzz/pwned && : >"/fuzz/pwned/${1:-unknown}"
    : >"/tmp/fuzz-canary-${1:-unknown}"
    ;;
sudo)
    # sudo -S reads the password line from stdin, as the real one does; -n, -p PROMPT and -u USER are dropped.
    while [ "$#" -gt 0 ]; do
        case "$1" in
        -S) IFS= read -r _password || true; shift ;;
        -n) shift ;;
        -p | -u) shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    exec "$@"
    ;;
runuser)
    while [ "$#" -gt 0 ]; do
        case "$1" in
        -u) shift 2 ;;
        --) shift; break ;;
        *) break ;;
        esac
    done
    exec "$@"
    ;;
curl | wget)
    out=$(output_of "$@")
    key='-----BEGIN PGP PUBLIC KEY BLOCK-----
fuzz-sandbox stand-in key
-----END PGP PUBLIC KEY BLOCK-----'
    if [ -n "$out" ]; then printf '%s\n' "$key" >"$out"; else printf '%s\n' "$key"; fi
    ;;
gpg)
    want=--show-keys
    if has "$@"; then
        echo 'pub:-:4096:1:DDCAE044F796ECB0:1496160627:::-:::scESC::::::23::0:'
        echo 'fpr:::::::::C95B321B61E88C1809C4F759DDCAE044F796ECB0:'
    fi
    want=--dearmor
    if has "$@"; then out=$(output_of "$@"); [ -z "$out" ] || printf 'fuzz-sandbox stand-in keyring\n' >"$out"; fi
    ;;
dpkg-query)
    want=-W
    if has "$@"; then echo "1.20.0-1 ii "; fi
    ;;
rpm)
    want=--qf
    if has "$@"; then printf '1.20.0-1'; fi
    ;;
containerd)
    case "$*" in "config dump"*) printf 'version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvidia]\n  runtime_type = "io.containerd.runc.v2"\n' ;; esac
    ;;
crio)
    case "$*" in *config*) printf '[crio.runtime.runtimes.nvidia]\nruntime_path = "/usr/bin/nvidia-container-runtime"\n' ;; esac
    ;;
nvidia-smi)
    want=driver_version
    if has "$@"; then echo 580.159.04; fi
    ;;
nvidia-ctk)
    case "$*" in
    *--version* | *" -v"*) echo "NVIDIA Container Toolkit CLI version 1.20.0" ;;
    "cdi generate"*)
        out=$(output_of "$@")
        spec='cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0'
        if [ -n "$out" ]; then printf '%s\n' "$spec" >"$out"; else printf '%s\n' "$spec"; fi
        ;;
    "cdi list"*) printf 'nvidia.com/gpu=0\nnvidia.com/gpu=GPU-90b19bec-097c-6e10-2830-1005b2cfa1ed\nnvidia.com/gpu=all\n' ;;
    esac
    ;;
docker)
    case "$1" in
    info) echo '{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}' ;;
    version) echo 27.5.1 ;;
    inspect) exit 1 ;;
    run) echo 0123456789abcdef ;;
    esac
    ;;
systemctl)
    case "$1" in
    cat) exit 1 ;; # no unit files: nvidia-cdi-refresh is not installed, so the plan runs nvidia-ctk cdi generate
    is-active) echo active ;;
    is-enabled) echo enabled ;;
    show)
        # A restarted daemon has a new PID: each show gives the next one.
        pid=$(cat /run/fuzz-main-pid 2>/dev/null || echo 4242)
        echo $((pid + 1)) >/run/fuzz-main-pid
        want=--value
        if has "$@"; then echo "$pid"; else printf 'MainPID=%s\nActiveState=active\nNRestarts=0\n' "$pid"; fi
        ;;
    esac
    ;;
esac
exit 0
