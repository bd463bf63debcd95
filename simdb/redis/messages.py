"""Every error text the front end sends, word for word as Redis 7.0 says it.

Errors raised inside fakeredis keep fakeredis's own texts (``fakeredis._msgs``);
the ones here are those simdb's front end answers itself.
"""

from __future__ import annotations

PROTO_INVALID_BULK = "ERR Protocol error: invalid bulk length"
PROTO_INVALID_MULTIBULK = "ERR Protocol error: invalid multibulk length"
PROTO_EXPECTED_DOLLAR = "ERR Protocol error: expected '$', got '{}'"
PROTO_UNBALANCED_QUOTES = "ERR Protocol error: unbalanced quotes in request"
PROTO_INLINE_TOO_BIG = "ERR Protocol error: too big inline request"
PROTO_MULTIBULK_TOO_BIG = "ERR Protocol error: too big mbulk count string"
PROTO_BULK_TOO_BIG = "ERR Protocol error: too big bulk count string"
PROTO_UNAUTH_MULTIBULK = "ERR Protocol error: unauthenticated multibulk length"
PROTO_UNAUTH_BULK = "ERR Protocol error: unauthenticated bulk length"

UNKNOWN_COMMAND = "ERR unknown command '{}', with args beginning with: {}"
UNKNOWN_SUBCOMMAND = "ERR unknown subcommand '{}'. Try {} HELP."
WRONG_ARITY = "ERR wrong number of arguments for '{}' command"
SYNTAX = "ERR syntax error"

NOAUTH = "NOAUTH Authentication required."
NOAUTH_HELLO = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"  # noqa: E501
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
PROTOCOL_VERSION_NOT_INT = "ERR Protocol version is not an integer or out of range"
CLIENT_NAME_CHARS = "ERR Client names cannot contain spaces, newlines or special characters."
PUBSUB_CONTEXT = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)
DEBUG_NOT_ALLOWED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it '
    "from a local connection, otherwise you need to set this option in the configuration file, and then "
    "restart the server."
)
INTERNAL = "ERR simdb internal error while running '{}': {}"

#: redis-server's log line (server.c, securityWarningCommand) when HTTP reaches its port.
SECURITY_ATTACK = (
    "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. "
    "This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your "
    "Redis instance. Connection aborted."
)
