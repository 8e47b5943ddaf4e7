# ForceCommand of lab/hostile/serve.sh: logs the command the client sent (one file per address,
# records separated by a line "---"), then runs the scenario the test wrote for this address.
# SSH_CONNECTION is "client-ip client-port server-ip server-port".
set -- $SSH_CONNECTION
address=$3
{ printf '%s\n' "$SSH_ORIGINAL_COMMAND"; echo ---; } >>"$HOSTILE_DIR/commands/$address.log"
exec /bin/sh "$HOSTILE_DIR/scenarios/$address"
