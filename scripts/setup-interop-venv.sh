#!/usr/bin/env bash
# Installs the original published client (neuro-cli 22.7.1) into a virtual environment of its own,
# so interop tests can drive it against our server. Its package is also called neuro_sdk, hence the
# separate venv. These pins are needed: without them the CLI fails to import.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.cache/interop-venv"
# aiobotocore: 22.7.1's blob commands reach into aiobotocore 2.3's internals
# (`http_session._session`), gone from later 2.x releases that its open pin (<3.0) allows.
aiobotocore_pin=2.3.4
if [ -x "$venv/bin/neuro" ] && "$venv/bin/neuro" --version 2>/dev/null | grep -q 22.7.1 \
    && "$venv/bin/pip" show aiobotocore 2>/dev/null | grep -q "^Version: $aiobotocore_pin$"; then
    exit 0
fi
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
    neuro-cli==22.7.1 neuro-sdk==22.7.1 neuro-config-client==22.7.11 \
    neuro-admin-client==22.7.2 async-timeout "aiobotocore==$aiobotocore_pin"
"$venv/bin/neuro" --version
