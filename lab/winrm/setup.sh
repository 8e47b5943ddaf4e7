#!/usr/bin/env bash
# Usage: lab/winrm/setup.sh
# Prepares everything the WinRM tests need, idempotently and quickly when done before:
#   .venv-winrm/        private virtualenv with pywinrm (the independent client that validates
#                       lab/winrm/endpoint.py); pip's cache stays inside it, so PyPI is needed once
#   .lab/winrm/pki/     a test CA and two server certificates signed by it, made with openssl:
#                       server.pem (localhost, 127.0.0.1) and other.pem (other.invalid only, for
#                       hostname-mismatch tests); the CA key is thrown away after signing
# Needs python3 with venv and openssl (lab/deps.sh installs them). Safe to run concurrently.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
VENV=$REPO/.venv-winrm
PKI=$REPO/.lab/winrm/pki
REQUIREMENTS="pywinrm==0.5.0"
mkdir -p "$REPO/.lab/winrm"

# Concurrent test processes may call this at once: one does the work, the others wait.
exec 9>"$REPO/.lab/winrm/setup.lock"
flock 9

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$REQUIREMENTS" ]; then
    rm -rf "$VENV"
    "$PY" -m venv "$VENV" || { echo "winrm setup: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    PIP_CACHE_DIR=$VENV/pip-cache "$VENV/bin/pip" install -q --disable-pip-version-check $REQUIREMENTS >&2
    echo "$REQUIREMENTS" >"$VENV/.requirements"
fi

if [ ! -s "$PKI/other.pem" ]; then
    rm -rf "$PKI" "$PKI.tmp"
    mkdir -p "$PKI.tmp"
    cd "$PKI.tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=patchctl WinRM test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout ca.key -out ca.pem 2>/dev/null
    for name in server other; do
        if [ $name = server ]; then san="DNS:localhost,IP:127.0.0.1"; cn=localhost; else san="DNS:other.invalid"; cn=other.invalid; fi
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout $name.key -out $name.csr 2>/dev/null
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >$name.ext
        openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile $name.ext -out $name.pem 2>/dev/null
        rm -f $name.csr $name.ext
    done
    # Nobody may sign more certificates with this CA: only its certificate is kept.
    rm -f ca.key ca.srl
    chmod 600 ./*.key
    cd "$REPO"
    mv "$PKI.tmp" "$PKI"
fi
