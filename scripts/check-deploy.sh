#!/usr/bin/env bash
# Validates every configuration file that docs/deploy.md ships, with the tool that will read it:
#   deploy/nginx/*.conf            nginx -t, inside a throwaway nginx.conf with a self-signed certificate
#   deploy/caddy/Caddyfile*        caddy validate, with HOME and XDG_* in a temporary directory
#   deploy/systemd/*.service       systemd-analyze verify and security (when systemd-analyze is here)
#   deploy/systemd/*.env.example   its syntax, and that docs/configuration.md lists each variable
#   docs/deploy.md                 that every line it quotes from a file is in that file
# Prints one line per file, `checked FILE with TOOL` or `unchecked FILE: REASON`, and exits non-zero
# when a check fails. Installs nginx-light and caddy from Debian when they are missing, and leaves no
# nginx or caddy daemon running that the install started. Writes nothing outside a temporary
# directory, which it removes (systemd-analyze makes and removes scratch directories of its own in
# /tmp); run it as often as you like.
set -euo pipefail

cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-deploy-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

status=0

checked() { echo "checked $1 with $2"; }
unchecked() { echo "unchecked $1: $2"; }
# failed FILE TOOL OUTPUT-FILE
failed() {
    echo "FAILED $1 with $2:"
    sed 's/^/    /' "$3"
    status=1
}

# ---------------------------------------------------------------------------------------------------
# Tools

# Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"

# The PIDs of live nginx and caddy processes, one a line. Zombies are left out: where PID 1 is slow
# to reap them (a container), a stopped daemon would otherwise seem to linger.
daemon_pids() { pgrep -x -r R,S,D,T 'nginx|caddy' | sort || true; }

# Stops what a package's install started: on a machine run by systemd, the units (which also keeps
# them from starting at boot); anywhere, any nginx or caddy process that was not running before.
stop_new_daemons() {
    local before=$1 packages=$2 unit new
    if [[ -d /run/systemd/system ]]; then
        for unit in nginx caddy; do
            if [[ " $packages " == *" $unit"* ]] && systemctl is-enabled --quiet "$unit" 2>/dev/null; then
                systemctl disable --now --quiet "$unit" 2>/dev/null || true
                echo "note: disabled and stopped $unit.service, which its package started"
            fi
        done
    fi
    new=$(comm -13 <(echo "$before") <(daemon_pids))
    [[ -n $new ]] || return 0
    echo "note: stopping the daemon that installing $packages started (PIDs ${new//$'\n'/ })"
    # shellcheck disable=SC2086 # one PID a word
    kill -TERM $new 2>/dev/null || true
    for _ in $(seq 50); do
        new=$(comm -13 <(echo "$before") <(daemon_pids))
        [[ -n $new ]] || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $new 2>/dev/null || true
    sleep 0.2
    new=$(comm -13 <(echo "$before") <(daemon_pids))
    if [[ -n $new ]]; then
        echo "check-deploy: could not stop PIDs ${new//$'\n'/ } started by installing $packages" >&2
        exit 1
    fi
}

install_missing() {
    local missing=() before
    command -v nginx >/dev/null || missing+=(nginx-light)
    command -v caddy >/dev/null || missing+=(caddy)
    [[ ${#missing[@]} -gt 0 ]] || return 0
    if [[ $(id -u) -ne 0 ]]; then
        echo "check-deploy: ${missing[*]} missing; as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    before=$(daemon_pids)
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1; then
        # A machine whose package lists are old or absent: read them once, then try again.
        apt-get update -q >>"$work/apt.log" 2>&1 || true
        if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$work/apt.log" 2>&1; then
            echo "check-deploy: apt-get install ${missing[*]} failed:" >&2
            tail -n 20 "$work/apt.log" >&2
            stop_new_daemons "$before" "${missing[*]}"
            exit 1
        fi
    fi
    echo "note: installed ${missing[*]}"
    stop_new_daemons "$before" "${missing[*]}"
}

install_missing

# Runs a command without a network, where this machine lets us make a network namespace, so a
# check can never reach another host (caddy starts its active health checks while it validates).
offline=()
if unshare --net true 2>/dev/null; then
    offline=(unshare --net)
fi

# ---------------------------------------------------------------------------------------------------
# nginx: the site file inside a minimal nginx.conf, as Debian's nginx.conf includes sites-enabled/*.

nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
nginx_build=$(nginx -V 2>&1)
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=login.example.com -keyout "$work/tls/privkey.pem" -out "$work/tls/fullchain.pem" \
    >/dev/null 2>&1

check_nginx() {
    local file=$1 dir
    dir="$work/nginx/$(basename "$file")"
    mkdir -p "$dir"
    # The committed files name certbot's paths; point them at the throwaway certificate.
    sed -E "s#/etc/letsencrypt/live/[^/;]+/(fullchain|privkey)\.pem#$work/tls/\1.pem#g" "$file" >"$dir/site.conf"
    {
        echo "pid $dir/nginx.pid;"
        echo "error_log $dir/error.log;"
        echo "events {}"
        echo "http {"
        [[ -f /etc/nginx/mime.types ]] && echo "    include /etc/nginx/mime.types;"
        echo "    access_log off;"
        # nginx -t makes its temporary directories: here, not in /var/lib/nginx.
        echo "    client_body_temp_path $dir/body;"
        echo "    proxy_temp_path $dir/proxy;"
        for module in fastcgi uwsgi scgi; do
            [[ $nginx_build == *"--without-http_${module}_module"* ]] || echo "    ${module}_temp_path $dir/$module;"
        done
        echo "    include $dir/site.conf;"
        echo "}"
    } >"$dir/nginx.conf"
    if nginx -q -t -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out" 2>&1; then
        checked "$file" "nginx -t ($nginx_version)"
    else
        failed "$file" "nginx -t ($nginx_version)" "$dir/out"
    fi
}

# ---------------------------------------------------------------------------------------------------
# Caddy: caddy validate loads and provisions the whole configuration without serving it.

caddy_version=$(caddy version | cut -d' ' -f1)

check_caddy() {
    local file=$1 dir
    dir="$work/caddy/$(basename "$file")"
    mkdir -p "$dir/home" "$dir/data" "$dir/config"
    # Validating provisions reverse_proxy, which starts its active health checker, and that asks
    # every upstream at once. Point each IPv4 upstream at loopback (10.0.1.11:3000 becomes
    # 127.0.0.11:3000), so that even without a network namespace no packet leaves this machine.
    sed -E '/^[[:space:]]*reverse_proxy /s/[0-9]+\.[0-9]+\.[0-9]+\.([0-9]+):/127.0.0.\1:/g' "$file" >"$dir/Caddyfile"
    if (cd "$dir" && HOME="$dir/home" XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" \
        "${offline[@]}" caddy validate --adapter caddyfile --config "$dir/Caddyfile") >"$dir/out" 2>&1; then
        # Caddy reports a Caddyfile it would format differently, and other doubts, as warnings.
        if grep -q '"level":"warn"' "$dir/out"; then
            failed "$file" "caddy validate ($caddy_version): warnings" "$dir/out"
        else
            checked "$file" "caddy validate ($caddy_version)"
        fi
    else
        failed "$file" "caddy validate ($caddy_version)" "$dir/out"
    fi
}

# ---------------------------------------------------------------------------------------------------
# systemd: verify parses the unit as systemd would and checks that its commands exist. It only
# warns about unknown keys and bad values, so any output fails the check. security scores the
# hardening, so that a lost line is noticed.

# The highest exposure systemd-analyze security may give the unit, in tenths as --threshold takes it
# (20 is 2.0; the unit scored 1.2 when written).
max_exposure=20

check_unit() {
    local file=$1 dir unit exposure
    dir="$work/systemd"
    mkdir -p "$dir/bin"
    if ! command -v systemd-analyze >/dev/null; then
        # systemd is the init system's package: installing it in a container drags in much and
        # starts nothing useful, so the script does not.
        unchecked "$file" "systemd-analyze is not installed (package systemd), and this script does not install an init system"
        return
    fi
    # verify wants the binary to exist: a stub stands in for /usr/local/bin/latchkey.
    printf '#!/bin/sh\nexit 0\n' >"$dir/bin/latchkey"
    chmod +x "$dir/bin/latchkey"
    unit="$dir/$(basename "$file")"
    sed "s#/usr/local/bin/latchkey#$dir/bin/latchkey#g" "$file" >"$unit"
    if ! systemd-analyze verify --man=no --generators=no "$unit" >"$dir/out" 2>&1 || [[ -s $dir/out ]]; then
        failed "$file" "systemd-analyze verify" "$dir/out"
        return
    fi
    if ! systemd-analyze security --offline=yes --no-pager --threshold="$max_exposure" "$unit" >"$dir/security" 2>&1; then
        grep -E '✗|exposure' "$dir/security" >"$dir/out" || cp "$dir/security" "$dir/out"
        failed "$file" "systemd-analyze security (exposure over $((max_exposure / 10)).$((max_exposure % 10)))" "$dir/out"
        return
    fi
    exposure=$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p' "$dir/security")
    checked "$file" "systemd-analyze verify and security (exposure ${exposure:-?}, at most $((max_exposure / 10)).$((max_exposure % 10)))"
}

# ---------------------------------------------------------------------------------------------------
# The environment file: no tool reads it but systemd at start, so check what can go wrong in it.

check_env() {
    local file=$1 out="$work/env.out" documented line body name n=0
    # systemd and sh read these alike: a plain word, or double quotes without $ ` \ " inside.
    local assignment='^[A-Z][A-Z0-9_]*=([A-Za-z0-9_@%+=:,./-]*|"[^"$`\\]*")$'
    # The first column of its tables: | `LATCHKEY_ADDR` | ...
    # shellcheck disable=SC2016 # the backquotes are Markdown's
    documented=$(grep -oE '^\| `[A-Z][A-Z0-9_]*`' docs/configuration.md | tr -d '|` ')
    : >"$out"
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        # Assignments, and assignments commented out (`# NAME=value`), which people uncomment.
        body=${line#\#}
        body=${body# }
        if [[ $body =~ ^([A-Z][A-Z0-9_]*)= ]]; then
            name=${BASH_REMATCH[1]}
            if ! grep -qx "$name" <<<"$documented"; then
                echo "line $n: $name is not in docs/configuration.md's table" >>"$out"
            fi
            if ! [[ $body =~ $assignment ]]; then
                echo "line $n: quote the value (\"...\", without \$ \` \\ or \" inside): $line" >>"$out"
            fi
        elif [[ -n $line && $line != \#* ]]; then
            echo "line $n: neither NAME=value nor a comment: $line" >>"$out"
        fi
    done <"$file"
    if [[ -s $out ]]; then
        failed "$file" "the environment-file rules" "$out"
    else
        checked "$file" "the environment-file rules (syntax systemd and sh read alike; names in docs/configuration.md)"
    fi
}

# ---------------------------------------------------------------------------------------------------
# The guide: a fenced block right after a line that links a deploy/ file and ends with `:` quotes
# that file. Each of its lines (but `…` and blank ones) must be a line of the file, so the guide
# cannot drift from what is checked above.

check_guide() {
    local guide=$1 out="$work/guide.out" blocks
    : >"$out"
    awk -v out="$out" -v count="$work/guide.blocks" '
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
        /^```/ {
            if (!inside) {
                inside = 1; quoting = source; source = ""
                if (quoting != "") blocks++
            } else {
                inside = 0; quoting = ""
            }
            next
        }
        inside && quoting != "" {
            line = trim($0)
            if (line == "" || line == "…" || line == "...") next
            found = 0
            while ((getline text < quoting) > 0) if (trim(text) == line) { found = 1; break }
            close(quoting)
            if (!found) printf "line %d: not in %s: %s\n", NR, quoting, line >> out
            next
        }
        inside { next }
        NF {
            source = ""
            if ($0 ~ /:$/ && match($0, /\]\(\.\.\/deploy\/[^)]+\)/)) {
                source = substr($0, RSTART + 5, RLENGTH - 6)
                if ((getline text < source) < 0) { printf "line %d: no such file %s\n", NR, source >> out; source = "" }
                close(source)
            }
        }
        END { print blocks + 0 > count }
    ' "$guide"
    blocks=$(cat "$work/guide.blocks")
    if [[ -s $out ]]; then
        failed "$guide" "its quotes of deploy/ files" "$out"
    elif [[ $blocks -eq 0 ]]; then
        echo "no quoted blocks found (a block must follow a line that links ../deploy/FILE and ends with ':')" >"$out"
        failed "$guide" "its quotes of deploy/ files" "$out"
    else
        checked "$guide" "its quotes of deploy/ files ($blocks blocks, each line found in its file)"
    fi
}

# ---------------------------------------------------------------------------------------------------

for file in deploy/nginx/*.conf; do check_nginx "$file"; done
for file in deploy/caddy/Caddyfile*; do check_caddy "$file"; done
for file in deploy/systemd/*.service; do check_unit "$file"; done
for file in deploy/systemd/*.env.example; do check_env "$file"; done
check_guide docs/deploy.md

exit "$status"
