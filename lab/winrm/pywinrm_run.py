#!/usr/bin/env python3
"""Runs one command with pywinrm (the independent WinRM client) and prints the outcome as JSON:
{"status": N, "stdout": BASE64, "stderr": BASE64}. Used by the tests to validate endpoint.py.

Usage: .venv-winrm/bin/python lab/winrm/pywinrm_run.py URL basic|ntlm USER PASSWORD_ENVVAR [--ca FILE] -- COMMAND [ARG...]
The password is read from $PASSWORD_ENVVAR, never from argv."""
import base64
import json
import os
import sys

import winrm

arguments = sys.argv[1:]
separator = arguments.index("--")
options, command = arguments[:separator], arguments[separator + 1:]
url, transport, user, variable = options[:4]
ca = options[options.index("--ca") + 1] if "--ca" in options else None
session = winrm.Session(url, auth=(user, os.environ[variable]), transport=transport,
                        server_cert_validation="validate", ca_trust_path=ca or "legacy_requests",
                        # The endpoint, like a Windows host with AllowUnencrypted=true, takes NTLM unsealed.
                        message_encryption="never" if url.startswith("http:") else "auto",
                        operation_timeout_sec=5, read_timeout_sec=15)
result = session.run_cmd(command[0], command[1:])
print(json.dumps({"status": result.status_code, "stdout": base64.b64encode(result.std_out).decode(),
                  "stderr": base64.b64encode(result.std_err).decode()}))
