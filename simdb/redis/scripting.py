"""Lua scripting as redis-server 7.0 runs it: sandbox, globals, errors, PRNG, script cache.

fakeredis runs scripts in a full Lua (``os.exit()`` stops the fake, ``io.popen`` runs programs)
and words its errors its own way. This module gives each engine one Lua 5.1 interpreter set up
like Redis's:

- only Redis's libraries (base without ``print``/``dofile``/``loadfile``/``require``/``getfenv``,
  ``string``, ``table``, ``math``, ``coroutine``, ``cjson``, ``bit``); ``struct`` and ``cmsgpack``
  answer a clear error that the fake lacks them;
- globals read-only: ``Script attempted to access nonexistent global variable 'x'`` and
  ``Attempt to modify a readonly table``, as Redis says them;
- errors as Redis 7.0 words them: ``Error compiling script (new function): user_script:1: ...``
  and ``<error> script: <sha>, on @user_script:<line>.``;
- ``math.random`` on Redis's own rand48 generator, its state kept across scripts as in 7.0;
- a script that runs past ``busy-reply-threshold`` (``lua-time-limit``) is stopped with a ``BUSY``
  error: the fake serves one command at a time, so it cannot answer others ``BUSY`` meanwhile.

Commands called from scripts run through fakeredis's own command methods (see ``engine.py``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import lupa.lua51 as lua51  # type: ignore[import-untyped]

from simdb.redis.fakeredis_compat import (
    COMMANDS_WITH_SUB,
    OK,
    SUPPORTED_COMMANDS,
    Int,
    SimpleError,
    SimpleString,
    command,
    is_write_command,
    lua_cjson_decode,
    lua_cjson_encode,
    lua_cjson_null,
    msgs,
)
from simdb.redis.servercmds import CommandArgs

log = logging.getLogger("simdb.redis")

REDIS_VERSION_NUM = 0x07000F  # 7.0.15

#: Commands a script may not call (Redis 7.0's ``noscript`` and blocking commands).
NOT_IN_SCRIPTS = frozenset(
    [
        "multi",
        "exec",
        "discard",
        "watch",
        "unwatch",
        "subscribe",
        "psubscribe",
        "unsubscribe",
        "punsubscribe",
        "ssubscribe",
        "sunsubscribe",
        "eval",
        "evalsha",
        "eval_ro",
        "evalsha_ro",
        "script",
        "function",
        "fcall",
        "fcall_ro",
        "auth",
        "hello",
        "quit",
        "reset",
        "monitor",
        "sync",
        "psync",
        "wait",
        "client",
        "config",
        "debug",
        "shutdown",
        "save",
        "bgsave",
        "bgrewriteaof",
        "slaveof",
        "replicaof",
        "blpop",
        "brpop",
        "brpoplpush",
        "blmove",
        "blmpop",
        "bzpopmin",
        "bzpopmax",
        "bzmpop",
        "xread",
        "xreadgroup",
    ]
)

_PRELUDE = r"""
local py_call, py_setresp, py_log, py_sha1hex, py_rand, py_srand, py_expired, py_acl,
      cj_encode, cj_decode, cj_null, bitlib, version = ...
local dbg, setfenv_, loadstring_, load_ = debug, setfenv, loadstring, load
local error_, type_, tostring_, select_ = error, type, tostring, select
local rawset_, setmetatable_, pairs_, xpcall_ = rawset, setmetatable, pairs, xpcall
local floor = math.floor
local READONLY = 'Attempt to modify a readonly table'

for _, name in ipairs({'print', 'dofile', 'loadfile', 'require', 'module', 'getfenv', 'setfenv',
                       'newproxy', 'debug', 'os', 'io', 'package', 'python'}) do
  _G[name] = nil
end

local readonly = setmetatable_({}, {__mode = 'k'})
local LOCKED = setmetatable_({}, {__newindex = function() error_(READONLY, 2) end, __metatable = false})
readonly[LOCKED] = true
local function protect(t)
  local proxy = setmetatable_({}, {__index = t, __newindex = function() error_(READONLY, 2) end,
                                   __metatable = LOCKED})
  readonly[proxy] = true
  return proxy
end
local function missing(name)
  return setmetatable_({}, {__index = function()
    error_('simdb: the Lua ' .. name .. ' library is not available in the fake', 2) end,
    __newindex = function() error_(READONLY, 2) end, __metatable = LOCKED})
end

local redis, raising = {}, {}
raising.call = function(...)
  local ok, v = py_call(...)
  if ok then return v end
  error_({err = v})
end
redis.pcall = function(...)
  local ok, v = py_call(...)
  if ok then return v end
  return {err = v}
end
raising.setresp = function(...)
  local ok, v = py_setresp(select_('#', ...), ...)
  if not ok then error_({err = v}) end
end
raising.log = function(...)
  local ok, v = py_log(select_('#', ...), ...)
  if not ok then error_({err = v}) end
end
raising.sha1hex = function(...)
  local ok, v = py_sha1hex(select_('#', ...), ...)
  if not ok then error_({err = v}) end
  return v
end
raising.acl_check_cmd = function(...)
  local ok, v = py_acl(...)
  if not ok then error_({err = v}) end
  return v
end
redis.error_reply = function(msg) return {err = msg} end
redis.status_reply = function(msg) return {ok = msg} end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.replicate_commands = function() return true end
redis.set_repl = function() end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = version[1], version[2]

math.random = function(...)
  local n = select_('#', ...)
  local r = py_rand()
  if n == 0 then return r end
  local m, u = ...
  if n == 1 then
    u = floor(m)
    if u < 1 then error_("bad argument #1 to 'random' (interval is empty)", 2) end
    return floor(r * u) + 1
  elseif n == 2 then
    local l = floor(m)
    u = floor(u)
    if l > u then error_("bad argument #2 to 'random' (interval is empty)", 2) end
    return floor(r * (u - l + 1)) + l
  end
  error_('wrong number of arguments', 2)
end
math.randomseed = function(seed) py_srand(floor(seed)) end

local cjson = {encode = cj_encode, decode = cj_decode, null = cj_null}

local G = {}
for k, v in pairs_(_G) do G[k] = v end
for _, name in ipairs({'string', 'table', 'math', 'coroutine'}) do G[name] = protect(_G[name]) end
-- The functions that raise are handed out as C functions (coroutine.wrap), so that a script's
-- `return redis.call(...)` is no Lua tail call and the error keeps the script's line, as in Redis.
local wrap = coroutine.wrap
G.redis = setmetatable_({}, {
  __index = function(_, k)
    local f = raising[k]
    if f then return wrap(f) end
    return redis[k]
  end,
  __newindex = function() error_(READONLY, 2) end,
  __metatable = LOCKED})
readonly[G.redis] = true
G.cjson, G.bit = protect(cjson), protect(bitlib)
-- ("x"):upper() looks in the string metatable: point it at the read-only string library too.
local string_meta = getmetatable('')
string_meta.__index = G.string
string_meta.__metatable = protect({__index = G.string})
G.struct, G.cmsgpack = missing('struct'), missing('cmsgpack')

local env = setmetatable_({}, {
  __index = function(_, k)
    local v = G[k]
    if v == nil then
      error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
    end
    return v
  end,
  __newindex = function() error_(READONLY, 2) end,
  __metatable = LOCKED})
readonly[env] = true
G._G = env

G.rawset = function(t, k, v)
  if readonly[t] then error_(READONLY, 0) end
  return rawset_(t, k, v)
end
G.setmetatable = function(t, m)
  if readonly[t] then error_(READONLY, 0) end
  return setmetatable_(t, m)
end
local function sandboxed(f, err)
  if f then setfenv_(f, env) end
  return f, err
end
G.loadstring = function(s, name)
  if type_(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return sandboxed(loadstring_(s, name))
end
G.load = function(f, name) return sandboxed(load_(f, name)) end

local PRELUDE = dbg.getinfo(1, 'S').source
local function handler(err)
  -- Redis reports the innermost Lua frame; the prelude's own frames stand in for Redis's C code.
  local source, line
  for level = 2, 64 do
    local i = dbg.getinfo(level, 'Sl')
    if not i then break end
    if i.what ~= 'C' and i.source ~= PRELUDE then
      source, line = i.source, i.currentline
      break
    end
  end
  if type_(err) ~= 'table' then
    err = 'ERR ' .. tostring_(err)
  else
    err = tostring_(err.err)
  end
  return {err, source, line}
end

local function hook()
  local expired = py_expired()
  if expired then error_({err = expired}) end
end

local function compile(body)
  if body:byte(1) == 27 then return nil, 'user_script: binary chunks are not allowed' end
  local f, err = loadstring_(body, '@user_script')
  if not f then return nil, err end
  setfenv_(f, env)
  return f, nil
end

local function run(f, keys, argv)
  G.KEYS, G.ARGV = keys, argv
  dbg.sethook(hook, '', 100000)
  local ok, res = xpcall_(f, handler)
  dbg.sethook()
  if ok then return true, res end
  return false, res[1], res[2], res[3]
end

return compile, run
"""


def _no_attributes(obj: Any, name: Any, setting: bool) -> Any:
    raise AttributeError("Python attributes are not reachable from scripts")


def _lua_number(value: float) -> bytes:
    """A Lua number as Lua 5.1 writes it (``%.14g``), the way Redis passes it to a command."""
    if value == int(value) and abs(value) < 2**53:
        return b"%d" % int(value)
    return b"%.14g" % value


def _int32(value: Any) -> int:
    n = round(float(value)) & 0xFFFFFFFF
    return n - 2**32 if n >= 2**31 else n


def _bitlib(rt: Any) -> Any:
    """LuaBitOp, the ``bit`` library Redis ships."""

    def tohex(x: Any, n: Any = 8) -> bytes:
        width = int(n)
        digits = f"{_int32(x) & 0xFFFFFFFF:0{abs(width)}x}"
        digits = digits[-abs(width) :] if width else ""
        return (digits.upper() if width < 0 else digits).encode()

    def fold(op: Callable[[int, int], int]) -> Callable[..., int]:
        def f(x: Any, *rest: Any) -> int:
            acc = _int32(x)
            for y in rest:
                acc = _int32(op(acc & 0xFFFFFFFF, _int32(y) & 0xFFFFFFFF))
            return acc

        return f

    def shift(op: Callable[[int, int], int]) -> Callable[[Any, Any], int]:
        return lambda x, n: _int32(op(_int32(x) & 0xFFFFFFFF, int(n) & 31))

    def rol(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF

    table = {
        b"tobit": _int32,
        b"tohex": tohex,
        b"bnot": lambda x: _int32(~_int32(x)),
        b"band": fold(lambda a, b: a & b),
        b"bor": fold(lambda a, b: a | b),
        b"bxor": fold(lambda a, b: a ^ b),
        b"lshift": shift(lambda x, n: x << n),
        b"rshift": shift(lambda x, n: x >> n),
        b"arshift": lambda x, n: _int32(_int32(x) >> (int(n) & 31)),
        b"rol": shift(rol),
        b"ror": shift(lambda x, n: rol(x, (32 - n) & 31)),
        b"bswap": lambda x: _int32(int.from_bytes((_int32(x) & 0xFFFFFFFF).to_bytes(4, "little"), "big")),
    }
    return rt.table_from(table)


class LuaScripts:
    """One engine's Lua interpreter, script cache and PRNG. The caller holds the engine lock."""

    def __init__(self, time_limit_ms: Callable[[], int]) -> None:
        self.time_limit_ms = time_limit_ms
        self.rt = lua51.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_no_attributes,
        )
        self.cache: dict[bytes, Any] = {}
        self.sock: Any = None
        self.readonly = False
        self.deadline = 0.0
        self._rand = 0x1234ABCD330E  # Redis's rand48 starts from x = {0x330E, 0xABCD, 0x1234}
        self._expected_globals: set[Any] = set()
        rt = self.rt
        compile_fn, run_fn = rt.execute(
            _PRELUDE,
            self._call,
            self._setresp,
            self._log,
            self._sha1hex,
            self.rand,
            self.srand,
            self._expired,
            self._acl,
            lambda value: lua_cjson_encode(rt, self._expected_globals, value),
            lambda text: lua_cjson_decode(rt, self._expected_globals, text),
            lua_cjson_null,
            _bitlib(rt),
            rt.table_from([b"7.0.15", REDIS_VERSION_NUM]),
        )
        self._compile_fn, self._run_fn = compile_fn, run_fn
        self._expected_globals = set(rt.globals().keys())

    # -- the PRNG (redis/src/rand.c) ---------------------------------------------------------------
    def rand(self) -> float:
        """``math.random()``: redisLrand48() % INT32_MAX / INT32_MAX."""
        self._rand = (0x5DEECE66D * self._rand + 0xB) & (2**48 - 1)
        return ((self._rand >> 17) % 0x7FFFFFFF) / 0x7FFFFFFF

    def srand(self, seed: Any) -> None:
        """``math.randomseed(seed)``: redisSrand48."""
        s = int(seed) & 0xFFFFFFFF
        self._rand = ((s >> 16) << 32) | ((s & 0xFFFF) << 16) | 0x330E

    # -- scripts -----------------------------------------------------------------------------------
    def compile(self, body: bytes) -> bytes:
        """Compile and cache ``body``; its SHA1. Redis's compile error as :class:`SimpleError`."""
        sha = hashlib.sha1(body).hexdigest().encode()
        if sha not in self.cache:
            fn, err = self._compile_fn(body)
            if fn is None:
                text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
                raise SimpleError(f"ERR Error compiling script (new function): {text}")
            self.cache[sha] = fn
        return sha

    def run(self, sock: Any, sha: bytes, keys: list[bytes], argv: list[bytes], readonly: bool) -> Any:
        """Run the cached script ``sha`` for ``sock``; its reply, or :class:`SimpleError`."""
        fn = self.cache[sha]
        outer = (self.sock, self.readonly, self.deadline)
        self.sock, self.readonly = sock, readonly
        self.deadline = time.monotonic() + self.time_limit_ms() / 1000.0
        sock._script_resp = 2  # every script starts in RESP2, whatever its caller speaks
        try:
            out = self._run_fn(fn, self.rt.table_from(keys), self.rt.table_from(argv))
        finally:
            self.sock, self.readonly, self.deadline = outer
            sock._script_resp = None
        if out[0]:
            return sock._convert_lua_result(out[1], nested=False)
        message, source, line = out[1], out[2], out[3]
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
        if source is not None and line is not None:
            text += f" script: {sha.decode()}, on {source.decode()}:{int(line)}."
        raise SimpleError(text)

    def flush(self) -> None:
        """``SCRIPT FLUSH``."""
        self.cache.clear()

    # -- what scripts call -------------------------------------------------------------------------
    def _call(self, *args: Any) -> tuple[bool, Any]:
        if not args:
            return False, b"ERR Please specify at least one argument for this redis lib call"
        argv: list[bytes] = []
        for a in args:
            if isinstance(a, bytes):
                argv.append(a)
            elif isinstance(a, bool) or not isinstance(a, int | float):
                return False, b"ERR Lua redis lib command arguments must be strings or integers"
            elif isinstance(a, float):
                argv.append(_lua_number(a))
            else:
                argv.append(b"%d" % a)
        sock = self.sock
        name = argv[0].decode("utf-8", "replace").lower()
        rest = argv[1:]
        if name in COMMANDS_WITH_SUB and rest:
            sig = SUPPORTED_COMMANDS.get(name + " " + rest[0].decode("utf-8", "replace").lower())
            rest = rest[1:]
        else:
            sig = SUPPORTED_COMMANDS.get(name)
        if sig is None or "redis" not in sig.server_types:
            return False, b"ERR Unknown Redis command called from script"
        if name in NOT_IN_SCRIPTS or msgs.FLAG_NO_SCRIPT in sig.flags:
            return False, b"ERR This Redis command is not allowed from script"
        try:
            sig.check_arity(rest, (7, 0))
        except SimpleError:
            return False, b"ERR Wrong number of args calling Redis command from script"
        if self.readonly and is_write_command(name.encode()):
            return False, b"ERR Write commands are not allowed from read-only scripts."
        try:
            result = sock._run_command(getattr(sock, sig.func_name), sig, CommandArgs.of(rest, argv), True)
            if isinstance(result, SimpleError):
                raise result
            return True, sock._convert_redis_result(self.rt, result)
        except SimpleError as exc:
            return False, exc.value.encode("utf-8", "replace")

    def _setresp(self, count: int, *args: Any) -> tuple[bool, Any]:
        if count != 1:
            return False, b"ERR redis.setresp() requires one argument."
        value = args[0]
        try:
            number = (
                float(value)
                if isinstance(value, bytes | int | float) and not isinstance(value, bool)
                else 0.0
            )
        except ValueError:
            number = 0.0
        if number not in (2.0, 3.0):
            return False, b"ERR RESP version must be 2 or 3."
        self.sock._script_resp = int(number)
        return True, None

    def _log(self, count: int, *args: Any) -> tuple[bool, Any]:
        if count < 2:
            return False, b"ERR redis.log() requires two arguments or more."
        level = args[0]
        if isinstance(level, bool) or not isinstance(level, int | float):
            return False, b"ERR First argument must be a number (log level)."
        if int(level) not in (0, 1, 2, 3):
            return False, b"ERR Invalid debug level."
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args[1:]]
        log.log(
            [logging.DEBUG, logging.INFO, logging.INFO, logging.WARNING][int(level)],
            "redis script: %s",
            b" ".join(parts).decode("utf-8", "replace"),
        )
        return True, None

    def _sha1hex(self, count: int, *args: Any) -> tuple[bool, Any]:
        if count != 1:
            return False, b"ERR wrong number of arguments"
        value = args[0]
        data = value if isinstance(value, bytes) else _lua_number(float(value)) if value is not None else b""
        return True, hashlib.sha1(data).hexdigest().encode()

    def _acl(self, *args: Any) -> tuple[bool, Any]:
        if not args or not isinstance(args[0], bytes):
            return False, b"ERR Please specify at least one argument for this redis lib call"
        if SUPPORTED_COMMANDS.get(args[0].decode("utf-8", "replace").lower()) is None:
            return False, b"ERR Invalid command passed to redis.acl_check_cmd()"
        return True, True

    def _expired(self) -> bytes | bool:
        if time.monotonic() <= self.deadline:
            return False
        limit = self.time_limit_ms()
        log.warning("redis script stopped after running longer than busy-reply-threshold (%d ms)", limit)
        return (
            f"BUSY simdb stopped the script after busy-reply-threshold ({limit} ms): the fake runs one "
            "command at a time, so it cannot answer other clients BUSY while a script runs"
        ).encode()


class ScriptingMixin:
    """EVAL, EVALSHA, their _RO forms and SCRIPT, on :class:`LuaScripts` (mixed into the engine's socket)."""

    lua: LuaScripts

    def _eval(self, sha: bytes, numkeys: int, args: tuple[bytes, ...], readonly: bool) -> Any:
        if numkeys > len(args):
            raise SimpleError(msgs.TOO_MANY_KEYS_MSG)
        if numkeys < 0:
            raise SimpleError(msgs.NEGATIVE_KEYS_MSG)
        return self.lua.run(self, sha, list(args[:numkeys]), list(args[numkeys:]), readonly)

    def _sha(self, sha1: bytes) -> bytes:
        sha = sha1.lower()
        if sha not in self.lua.cache:
            raise SimpleError(msgs.NO_MATCHING_SCRIPT_MSG)
        return sha

    @command(name="EVAL", fixed=(bytes, Int), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def eval(self, script: bytes, numkeys: int, *args: bytes) -> Any:
        return self._eval(self.lua.compile(script), numkeys, args, False)

    @command(name="EVAL_RO", fixed=(bytes, Int), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def eval_ro(self, script: bytes, numkeys: int, *args: bytes) -> Any:
        return self._eval(self.lua.compile(script), numkeys, args, True)

    @command(name="EVALSHA", fixed=(bytes, Int), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def evalsha(self, sha1: bytes, numkeys: int, *args: bytes) -> Any:
        return self._eval(self._sha(sha1), numkeys, args, False)

    @command(name="EVALSHA_RO", fixed=(bytes, Int), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def evalsha_ro(self, sha1: bytes, numkeys: int, *args: bytes) -> Any:
        return self._eval(self._sha(sha1), numkeys, args, True)

    @command(name="SCRIPT LOAD", fixed=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def script_load(self, script: bytes) -> bytes:
        return self.lua.compile(script)

    @command(name="SCRIPT EXISTS", fixed=(bytes,), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def script_exists(self, *shas: bytes) -> list[int]:
        return [int(sha.lower() in self.lua.cache) for sha in shas]

    @command(name="SCRIPT FLUSH", fixed=(), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def script_flush(self, *args: bytes) -> SimpleString:
        if len(args) > 1 or (args and args[0].lower() not in (b"sync", b"async")):
            raise SimpleError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        self.lua.flush()
        return OK

    @command(name="SCRIPT KILL", fixed=(), flags=msgs.FLAG_NO_SCRIPT)
    def script_kill(self) -> None:
        raise SimpleError("NOTBUSY No scripts in execution right now.")

    @command(name="SCRIPT DEBUG", fixed=(bytes,), flags=msgs.FLAG_NO_SCRIPT)
    def script_debug(self, mode: bytes) -> None:
        raise SimpleError("ERR simdb: SCRIPT DEBUG (the Lua debugger) is not supported by the fake")


FUNCTIONS_REFUSED = (
    "ERR simdb: Redis functions (FUNCTION, FCALL) are not supported by the fake; "
    "scripts run with EVAL/EVALSHA in its sandboxed Lua"
)


def _refuse_functions(self: Any, *args: Any) -> None:
    """fakeredis would run functions in its own, unsandboxed Lua: refused instead."""
    raise SimpleError(FUNCTIONS_REFUSED)


ScriptingMixin._refuse_functions = _refuse_functions  # type: ignore[attr-defined]
for _name in ("FCALL", "FCALL_RO"):
    command(name=_name, fixed=(bytes, bytes), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)(_refuse_functions)
for _sub in ("DELETE", "DUMP", "FLUSH", "HELP", "KILL", "LIST", "LOAD", "RESTORE", "STATS"):
    command(name=f"FUNCTION {_sub}", fixed=(), repeat=(bytes,), flags=msgs.FLAG_NO_SCRIPT)(_refuse_functions)
