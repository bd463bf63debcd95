"""Every private fakeredis 2.40.0 name simdb uses, in one place.

fakeredis's public API is a client; simdb drives its server side directly (databases, items,
command signatures, the socket that runs commands). When fakeredis changes, this module is
what to update. The other simdb.redis modules import these names from here, never from
``fakeredis._*``.
"""

from __future__ import annotations

from fakeredis import _msgs as msgs
from fakeredis._command_args_parsing import Float, Int
from fakeredis._commands import COMMANDS_WITH_SUB, SUPPORTED_COMMANDS, Key, Signature, command
from fakeredis._core import FakeServer
from fakeredis._core._database import CommandItem, Item
from fakeredis._helpers import OK, NoResponse, SimpleError, SimpleString, compile_pattern
from fakeredis._socket._fakesocket import FakeSocket
from fakeredis.commands_mixins.scripting_mixin import _lua_cjson_decode as lua_cjson_decode
from fakeredis.commands_mixins.scripting_mixin import _lua_cjson_encode as lua_cjson_encode
from fakeredis.commands_mixins.scripting_mixin import _lua_cjson_null as lua_cjson_null
from fakeredis.model import ExpiringMembersSet, Hash, ZSet, is_write_command

__all__ = [
    "COMMANDS_WITH_SUB",
    "OK",
    "SUPPORTED_COMMANDS",
    "CommandItem",
    "ExpiringMembersSet",
    "FakeServer",
    "FakeSocket",
    "Float",
    "Hash",
    "Int",
    "Item",
    "Key",
    "NoResponse",
    "Signature",
    "SimpleError",
    "SimpleString",
    "ZSet",
    "command",
    "compile_pattern",
    "is_write_command",
    "lua_cjson_decode",
    "lua_cjson_encode",
    "lua_cjson_null",
    "msgs",
]
