/* host.c: the Lua state, its sandbox and limits, running chunks, error formatting, filters. */
#include <errno.h>
#include <lualib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/nn/model.h"
#include "../src/ops/ops.h"
#include "hostint.h"

/* Instructions between two looks at the clock. */
#define HOOK_EVERY 1000

/* ---- limits ---- */

static void host_hook(lua_State *L, lua_Debug *ar);

/* Where the script is when the cap refuses an allocation ("file:line: "), kept for the
 * message: Lua raises a memory error without a position and without calling the message
 * handler. Reads the stack only: lua_getstack and lua_getinfo "Sl" allocate nothing and, up to
 * Lua 5.4.5, the call stack is consistent at every allocation (savedpc may lag an instruction
 * at worst). From 5.4.6 on, a stack reallocation turns the frames' pointers into offsets
 * while it allocates, so there the position is not read and the message names the script
 * only. */
static void note_oom_where(host *h)
{
	h->oom_where[0] = '\0';
#if LUA_VERSION_RELEASE_NUM < 50406
	if (!h->L || !isfinite(h->deadline)) /* not inside a script run */
		return;
	lua_Debug ar;
	for (int level = 0; level < 64 && lua_getstack(h->L, level, &ar); level++) {
		if (!lua_getinfo(h->L, "Sl", &ar) || ar.currentline <= 0)
			continue;
		snprintf(h->oom_where, sizeof h->oom_where, "%s:%d: ", ar.short_src, ar.currentline);
		return;
	}
#else
	(void)h;
#endif
}

/* The byte cap: growth beyond it is refused (Lua raises "not enough memory"); a free or a
 * shrink is never refused. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	host *h = ud;
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		h->used -= old;
		return NULL;
	}
	if (nsize > old && (nsize - old > h->cap || h->used + h->extra + (nsize - old) > h->cap)) {
		note_oom_where(h);
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p)
		return nsize <= old ? ptr : NULL; /* a failed shrink keeps the old block */
	h->used = h->used - old + nsize;
	/* Past 15/16 of the cap the hook (on the next instruction) reports the limit with the
	 * script's line, after a full collection shows the memory is really in use; the hard
	 * cap above still refuses what goes further (Lua's memory error, which host_call
	 * reports with the line note_oom_where kept).
	 * lua_sethook may be called from anywhere, even here. */
	if (!h->mem_soft && h->used + h->extra > h->cap - h->cap / 16 && isfinite(h->deadline)) {
		h->mem_soft = 1;
		lua_sethook(h->L, host_hook, LUA_MASKCOUNT, 1);
	}
	return p;
}

static void mem_error(lua_State *L, host *h, const char *where)
{
	lua_pushfstring(L, "%snot enough memory (the limit is %d MB)", where,
			(int)(h->cap / (1024 * 1024)));
	lua_error(L);
}

void host_charge(lua_State *L, size_t bytes, int keep)
{
	host *h = host_of(L);
	if (bytes > h->cap || h->used + h->extra + bytes > h->cap) {
		luaL_where(L, 1);
		mem_error(L, h, lua_tostring(L, -1));
	}
	if (keep)
		h->extra += bytes;
}

/* Pushes where the script is, "file:line: " or "": from the hook's record ar, or (ar NULL, C
 * called from Lua) from the calling function. */
static void push_where(lua_State *L, lua_Debug *ar)
{
	if (!ar) {
		luaL_where(L, 1);
		return;
	}
	lua_getinfo(L, "Sl", ar);
	if (ar->currentline > 0)
		lua_pushfstring(L, "%s:%d: ", ar->short_src, ar->currentline);
	else
		lua_pushliteral(L, "");
}

/* The memory and time limits, for the hook (ar) and for C that runs long (ar NULL). Once the
 * time limit has fired the hook runs on every instruction and raises again, so a pcall (or an
 * error handler) in the script cannot swallow it. */
static void check_limits(lua_State *L, lua_Debug *ar)
{
	host *h = host_of(L);
	if (h->mem_soft && !h->timed_out) {
		lua_gc(L, LUA_GCCOLLECT);
		if (h->used + h->extra > h->cap - h->cap / 16) {
			push_where(L, ar);
			mem_error(L, h, lua_tostring(L, -1));
		}
		h->mem_soft = 0;
		lua_sethook(L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
	}
	if (!h->timed_out) {
		if (lm_seconds() <= h->deadline)
			return;
		h->timed_out = 1;
		lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
	}
	char secs[32];
	snprintf(secs, sizeof secs, "%g", h->timeout);
	push_where(L, ar);
	lua_pushfstring(L, "%stime limit of %s s exceeded", lua_tostring(L, -1), secs);
	lua_error(L);
}

static void host_hook(lua_State *L, lua_Debug *ar) { check_limits(L, ar); }

void host_check_deadline(lua_State *L) { check_limits(L, NULL); }

static void limits_arm(host *h)
{
	h->timed_out = 0;
	h->mem_soft = 0;
	h->deadline = lm_seconds() + h->timeout;
	lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

static void limits_disarm(host *h)
{
	h->deadline = INFINITY;
	h->timed_out = 0;
	h->mem_soft = 0;
	lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* ---- running chunks ---- */

/* The message handler of every protected call: the message (or a description of a non-string
 * error object), with the traceback appended when verbose. */
/* Whether msg starts with a position "NAME:LINE:" (as Lua writes it). */
static int has_position(const char *msg)
{
	const char *c = strchr(msg, ':');
	if (!c || c == msg || memchr(msg, '\n', (size_t)(c - msg)))
		return 0;
	const char *d = c + 1;
	while (*d >= '0' && *d <= '9')
		d++;
	return d > c + 1 && *d == ':';
}

static int msghandler(lua_State *L)
{
	const char *msg = lua_type(L, 1) == LUA_TSTRING ? lua_tostring(L, 1) : NULL;
	if (!msg) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			msg = lua_tostring(L, -1);
		else
			msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	/* an error raised in C below C (a pattern error inside the guarded string functions, a
	 * non-string error object, error(msg, 0)) gets the line of the innermost script function */
	if (!has_position(msg)) {
		lua_Debug ar;
		for (int lv = 1; lua_getstack(L, lv, &ar); lv++) {
			lua_getinfo(L, "Sl", &ar);
			if (ar.currentline > 0) {
				msg = lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
				break;
			}
		}
	}
	if (host_of(L)->verbose)
		luaL_traceback(L, L, msg, 1);
	else
		lua_pushstring(L, msg);
	return 1;
}

/* Calls the function below nargs arguments on the stack inside the limits; leaves nres
 * results. On error pops it into err and returns EX_DATAERR. */
static int host_call(host *h, int nargs, int nres, const char *what, lm_err *err)
{
	lua_State *L = h->L;
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, msghandler);
	lua_insert(L, base);
	limits_arm(h);
	h->oom_where[0] = '\0';
	int rc = lua_pcall(L, nargs, nres, base);
	limits_disarm(h);
	lua_remove(L, base);
	if (rc == LUA_OK)
		return 0;
	if (rc == LUA_ERRMEM && h->oom_where[0])
		lm_seterr(err, EX_DATAERR, "%snot enough memory (the limit is %.0f MB)", h->oom_where,
			  (double)h->cap / (1024.0 * 1024.0));
	else if (rc == LUA_ERRMEM)
		lm_seterr(err, EX_DATAERR, "%s: not enough memory (the limit is %.0f MB)", what,
			  (double)h->cap / (1024.0 * 1024.0));
	else
		lm_seterr(err, EX_DATAERR, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
	lua_pop(L, 1);
	lua_gc(L, LUA_GCCOLLECT);
	/* one line: a script's message may hold newlines (error("a\nb")); they are written as
	 * \n, other control characters as \xHH. The traceback of --verbose keeps its lines. */
	if (err && !h->verbose) {
		char out[sizeof err->msg];
		size_t o = 0;
		for (const unsigned char *c = (const unsigned char *)err->msg; *c && o + 5 < sizeof out;
		     c++) {
			if (*c == '\n')
				out[o++] = '\\', out[o++] = 'n';
			else if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
				o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *c);
			else
				out[o++] = (char)*c;
		}
		out[o] = 0;
		memcpy(err->msg, out, o + 1);
	}
	return EX_DATAERR;
}

/* Reads a text file (a leading #! line is blanked, keeping line numbers). */
static char *slurp(const char *path, size_t *len, lm_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		lm_seterr(err, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s", path,
			  strerror(errno));
		return NULL;
	}
	lm_buf b = {0};
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		buf_free(&b);
		lm_seterr(err, EX_IOERR, "%s: read error", path);
		return NULL;
	}
	buf_add(&b, "", 0);
	if (b.len && b.data[0] == '#')
		for (size_t i = 0; i < b.len && b.data[i] != '\n'; i++)
			b.data[i] = ' ';
	*len = b.len;
	return b.data;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Loads text as a chunk named chunk (shown as "NAME:LINE:") with a fresh environment;
 * leaves the function on the stack. EX_DATAERR on a syntax error. */
static int load_text(host *h, const char *text, size_t len, const char *name, lm_err *err)
{
	lua_State *L = h->L;
	char *chunk = xasprintf("@%s", name);
	int rc = luaL_loadbufferx(L, text, len, chunk, "t");
	free(chunk);
	if (rc != LUA_OK) {
		lm_seterr(err, EX_DATAERR, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1)
								  : "cannot load");
		lua_pop(L, 1);
		return EX_DATAERR;
	}
	host_push_env(L);
	lua_setupvalue(L, -2, 1); /* _ENV */
	return 0;
}

int host_run_string(host *h, const char *code, const char *chunkname, lm_err *err)
{
	int st = load_text(h, code, strlen(code), chunkname, err);
	return st ? st : host_call(h, 0, 0, chunkname, err);
}

int host_run_file(host *h, const char *path, int argc, char **argv, lm_err *err)
{
	size_t len;
	char *text = slurp(path, &len, err);
	if (!text)
		return err->status;
	const char *name = base_name(path);
	int st = load_text(h, text, len, name, err);
	free(text);
	if (st)
		return st;
	lua_State *L = h->L;
	/* arg: the script's arguments, arg[0] the script */
	lua_getupvalue(L, -1, 1);
	lua_createtable(L, argc, 1);
	lua_pushstring(L, path);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "arg");
	lua_pop(L, 1);
	return host_call(h, 0, 0, name, err);
}

/* ---- the sandbox ---- */

/* collectgarbage with the options that cannot change how the collector runs. */
static int safe_collectgarbage(lua_State *L)
{
	static const char *const ok[] = {"collect", "count", "step", "isrunning"};
	const char *opt = luaL_optstring(L, 1, "collect");
	for (size_t i = 0; i < LM_ARRAY_LEN(ok); i++)
		if (!strcmp(opt, ok[i])) {
			lua_pushvalue(L, lua_upvalueindex(1));
			lua_insert(L, 1);
			lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
			return lua_gettop(L);
		}
	return luaL_error(L, "collectgarbage('%s') is not allowed in lumen scripts", opt);
}

/* load(chunk [, name [, mode [, env]]]): text only, and the calling script's environment
 * unless one is given. Upvalues: the real load, the script's environment. */
static int safe_load(lua_State *L)
{
	int has_env = lua_gettop(L) >= 4;
	lua_settop(L, 4);
	if (lua_type(L, 3) != LUA_TNIL && lua_type(L, 3) != LUA_TSTRING)
		luaL_typeerror(L, 3, "string");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushvalue(L, 1);
	/* the chunk's name shows in messages as a place: "@/etc/passwd" would fake one */
	if (lua_type(L, 2) == LUA_TSTRING) {
		const char *nm = lua_tostring(L, 2);
		lua_pushfstring(L, "=[load %s]", nm + (*nm == '@' || *nm == '='));
	} else {
		lua_pushvalue(L, 2);
	}
	lua_pushliteral(L, "t");
	if (has_env)
		lua_pushvalue(L, 4);
	else
		lua_pushvalue(L, lua_upvalueindex(2));
	lua_call(L, 4, LUA_MULTRET);
	return lua_gettop(L) - 4;
}

/* require(NAME): the shipped Lua modules in lua/lib only, loaded as text in a fresh
 * environment, once per script. Upvalue: the script's table of loaded modules. */
static int safe_require(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	size_t n = strlen(name);
	int valid = n > 0 && n < 64;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			valid = 0;
	if (!valid)
		return luaL_error(L, "require: '%s' is not a lumen library name", name);
	lua_getfield(L, lua_upvalueindex(1), name);
	if (!lua_isnil(L, -1))
		return 1;
	lua_pop(L, 1);
	char *dir = host_lua_dir();
	char *path = dir ? xasprintf("%s/lib/%s.lua", dir, name) : NULL;
	free(dir);
	struct stat sb;
	if (!path || stat(path, &sb) != 0) {
		free(path);
		return luaL_error(L, "require: no lumen library '%s' (only lua/lib modules can be "
				     "required)", name);
	}
	lm_err e = {0};
	size_t len;
	char *text = slurp(path, &len, &e);
	free(path);
	if (!text)
		return luaL_error(L, "require: %s", e.msg);
	char *chunk = xasprintf("@%s.lua", name);
	int rc = luaL_loadbufferx(L, text, len, chunk, "t");
	free(chunk);
	free(text);
	if (rc != LUA_OK)
		return lua_error(L);
	host_push_env(L);
	lua_setupvalue(L, -2, 1);
	lua_call(L, 0, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, lua_upvalueindex(1), name);
	return 1;
}

/* Lua runs finalizers and a message handler that follows an error raised by the hook with
 * hooks off, so the time limit would not reach them: __gc metamethods are refused, and an
 * xpcall handler is skipped once the time limit has fired. */
static int safe_setmetatable(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, lua_type(L, 2) == LUA_TNIL || lua_type(L, 2) == LUA_TTABLE, 2,
			 "nil or table");
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return luaL_error(L, "__gc metamethods are not allowed in lumen scripts");
		lua_pop(L, 1);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int xpcall_handler(lua_State *L)
{
	if (host_of(L)->timed_out)
		return 1; /* the error as it is */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, 1);
	return 1;
}

static int safe_xpcall(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_pushvalue(L, 2);
	lua_pushcclosure(L, xpcall_handler, 1);
	lua_replace(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* Lua's pattern matching runs in C, where the instruction hook cannot stop it, and a pattern
 * with k repetitions (*, +, -) can backtrack about n^(k+1) times over an n-byte subject
 * ("a-a-a-b" on a long run of a's). The wrappers below estimate that cost before matching and
 * refuse what could not finish within the time left (at a conservative 5e8 steps a second). */
static int pattern_reps(const char *p, size_t len, int *optional, int *balanced)
{
	int k = 0;
	*optional = *balanced = 0;
	size_t i = 0;
	while (i < len) {
		char c = p[i];
		if (c == '(' || c == ')' || c == '^' || c == '$') {
			i++;
			continue;
		}
		if (c == '%') {
			if (i + 1 < len && p[i + 1] == 'b') {
				(*balanced)++;
				i += 4;
				continue;
			}
			if (i + 1 < len && p[i + 1] == 'f') {
				i += 2; /* the set follows */
				if (i < len && p[i] == '[') {
					i++;
					if (i < len && p[i] == '^')
						i++;
					do {
						if (i < len && p[i] == '%')
							i++;
						i++;
					} while (i < len && p[i] != ']');
					i++;
				}
				continue;
			}
			i += 2;
		} else if (c == '[') {
			i++;
			if (i < len && p[i] == '^')
				i++;
			do { /* the first ']' of a set is literal */
				if (i < len && p[i] == '%')
					i++;
				i++;
			} while (i < len && p[i] != ']');
			i++;
		} else {
			i++;
		}
		if (i < len && (p[i] == '*' || p[i] == '+' || p[i] == '-')) {
			k++;
			i++;
		} else if (i < len && p[i] == '?') {
			(*optional)++;
			i++;
		}
	}
	return k;
}

static int guarded_match(lua_State *L)
{
	size_t n, plen;
	luaL_checklstring(L, 1, &n);
	const char *pat = luaL_checklstring(L, 2, &plen);
	int plain = lua_toboolean(L, 4) && lua_tocfunction(L, lua_upvalueindex(2)) != NULL;
	if (!plain) {
		host *h = host_of(L);
		/* k repetitions backtrack up to n times each, q optional items try both ways (2^q),
		 * a %b scans to the end of the subject; all of it at each of n starting points */
		int q, b, k = pattern_reps(pat, plen, &q, &b);
		double left = isfinite(h->deadline) ? h->deadline - lm_seconds() : h->timeout;
		double cost = (double)(k + b + 1) * log10((double)n + 1.0) + (double)q * log10(2.0);
		if (k + q + b > 0 && cost > log10(fmax(left, 0.001) * 5e8))
			return luaL_error(L, "%s: a pattern with %d repetitions over %d bytes could "
					     "run past the time limit",
					  lua_tostring(L, lua_upvalueindex(3)), k + q + b, (int)n);
	}
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* print: tab-separated tostring of the arguments, to the host's print callback or stderr. */
static int safe_print(lua_State *L)
{
	host *h = host_of(L);
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	const char *line = lua_tostring(L, -1);
	if (h->print)
		h->print(h->print_ud, line);
	else
		fprintf(stderr, "%s\n", line);
	return 0;
}

static const char *const base_allowed[] = {
	"assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
	"rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type", "_VERSION",
};

/* Registry key of the template: allowed globals and library tables, copied into each env. */
static const char TEMPLATE_KEY[] = "lumen.template";

static void copy_table(lua_State *L, int src)
{
	src = lua_absindex(L, src);
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, src)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
}

void host_push_env(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, TEMPLATE_KEY);
	int t = lua_gettop(L);
	lua_newtable(L);
	int env = t + 1;
	lua_pushnil(L);
	while (lua_next(L, t)) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			copy_table(L, -1);
			lua_remove(L, -2);
		}
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, env);
	}
	lua_pushvalue(L, env);
	lua_setfield(L, env, "_G");
	lua_getfield(L, t, "__load");
	lua_pushvalue(L, env);
	lua_pushcclosure(L, safe_load, 2);
	lua_setfield(L, env, "load");
	lua_pushnil(L);
	lua_setfield(L, env, "__load");
	lua_getfield(L, t, "__collectgarbage");
	lua_pushcclosure(L, safe_collectgarbage, 1);
	lua_setfield(L, env, "collectgarbage");
	lua_pushnil(L);
	lua_setfield(L, env, "__collectgarbage");
	lua_newtable(L);
	lua_pushcclosure(L, safe_require, 1);
	lua_setfield(L, env, "require");
	host_api_install(L, env);
	lua_remove(L, t);
}

/* Runs inside a protected call: opens the allowed libraries and builds the template. */
static int setup(lua_State *L)
{
	luaL_requiref(L, "_G", luaopen_base, 0);
	luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
	luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
	luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);
	luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);
	luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
	int g = lua_gettop(L) - 5, str = g + 1, tab = g + 2, mth = g + 3, utf = g + 4, os = g + 5;
	/* string.dump would hand out bytecode; strings' metatable stays out of reach */
	lua_pushnil(L);
	lua_setfield(L, str, "dump");
	static const char *const matchers[] = {"find", "match", "gmatch", "gsub"};
	for (size_t i = 0; i < LM_ARRAY_LEN(matchers); i++) {
		lua_getfield(L, str, matchers[i]);
		/* upvalue 2 marks string.find, whose 4th argument asks for a plain search */
		if (i == 0)
			lua_pushcfunction(L, guarded_match);
		else
			lua_pushnil(L);
		lua_pushfstring(L, "string.%s", matchers[i]);
		lua_pushcclosure(L, guarded_match, 3);
		lua_setfield(L, str, matchers[i]);
	}
	lua_pushliteral(L, "");
	if (lua_getmetatable(L, -1)) {
		lua_pushliteral(L, "string");
		lua_setfield(L, -2, "__metatable");
	}
	lua_settop(L, os);

	lua_newtable(L);
	int tpl = lua_gettop(L);
	for (size_t i = 0; i < LM_ARRAY_LEN(base_allowed); i++) {
		lua_getfield(L, g, base_allowed[i]);
		lua_setfield(L, tpl, base_allowed[i]);
	}
	lua_getfield(L, g, "setmetatable");
	lua_pushcclosure(L, safe_setmetatable, 1);
	lua_setfield(L, tpl, "setmetatable");
	lua_getfield(L, g, "xpcall");
	lua_pushcclosure(L, safe_xpcall, 1);
	lua_setfield(L, tpl, "xpcall");
	lua_pushcfunction(L, safe_print);
	lua_setfield(L, tpl, "print");
	lua_getfield(L, g, "load");
	lua_setfield(L, tpl, "__load");
	lua_getfield(L, g, "collectgarbage");
	lua_setfield(L, tpl, "__collectgarbage");
	lua_pushvalue(L, str);
	lua_setfield(L, tpl, "string");
	lua_pushvalue(L, tab);
	lua_setfield(L, tpl, "table");
	lua_pushvalue(L, mth);
	lua_setfield(L, tpl, "math");
	lua_pushvalue(L, utf);
	lua_setfield(L, tpl, "utf8");
	lua_newtable(L);
	static const char *const os_allowed[] = {"time", "date", "clock"};
	for (size_t i = 0; i < LM_ARRAY_LEN(os_allowed); i++) {
		lua_getfield(L, os, os_allowed[i]);
		lua_setfield(L, -2, os_allowed[i]);
	}
	lua_setfield(L, tpl, "os");
	lua_setfield(L, LUA_REGISTRYINDEX, TEMPLATE_KEY);
	/* the real globals table keeps only what the template took; nothing reaches it */
	host_api_setup(L);
	return 0;
}

host *host_new(sqlite3 *db, const frame *fr, const char *model_name, const host_opts *opts,
	       lm_err *err)
{
	host *h = xcalloc(1, sizeof *h);
	double mb = opts && opts->memory_mb > 0 ? opts->memory_mb : HOST_DEFAULT_MEMORY_MB;
	h->cap = (size_t)(mb * 1024.0 * 1024.0);
	h->timeout = opts && opts->timeout_s > 0 ? opts->timeout_s : HOST_DEFAULT_TIMEOUT_S;
	h->verbose = opts ? opts->verbose : 0;
	h->print = opts ? opts->print : NULL;
	h->print_ud = opts ? opts->print_ud : NULL;
	h->deadline = INFINITY;
	h->db = db;
	h->fr = fr;
	h->default_model = -1;
	h->colidx_ref = LUA_NOREF;
	report_init(&h->rep);
	h->L = lua_newstate(host_alloc, h);
	if (!h->L) {
		free(h);
		lm_seterr(err, EX_SOFTWARE, "cannot create the Lua state");
		return NULL;
	}
	*(host **)lua_getextraspace(h->L) = h;
	lua_pushcfunction(h->L, setup);
	if (host_call(h, 0, 0, "setup", err)) {
		host_free(h);
		return NULL;
	}
	if (model_name && (h->default_model = host_preds_load(h, model_name, err)) < 0) {
		host_free(h);
		return NULL;
	}
	return h;
}

void host_free(host *h)
{
	if (!h)
		return;
	if (h->L)
		lua_close(h->L);
	for (int i = 0; i < h->npreds; i++) {
		free(h->preds[i].name);
		free(h->preds[i].risk);
		free(h->preds[i].outcome);
	}
	free(h->preds);
	for (int i = 0; i < h->nmodels; i++) {
		model_free(h->models[i].m);
		free(h->models[i].baseline);
	}
	free(h->models);
	if (h->owns_frame)
		frame_free(&h->own);
	report_free(&h->rep);
	free(h);
}

const frame *host_frame(host *h, lm_err *err)
{
	if (h->fr)
		return h->fr;
	if (frame_load(h->db, "patients", NULL, 0, &h->own, err))
		return NULL;
	h->owns_frame = 1;
	h->fr = &h->own;
	return h->fr;
}

struct report *host_report(host *h) { return &h->rep; }

const double *host_risk(host *h)
{
	return h->default_model >= 0 ? h->preds[h->default_model].risk : NULL;
}

/* ---- script lookup ---- */

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

char *host_lua_dir(void)
{
	const char *env = getenv("LUMEN_LUA_DIR");
	if (env && *env && is_dir(env))
		return xstrdup(env);
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			static const char *const rel[] = {"/../lua", "/../../lua", "/lua",
							  "/../share/lumen/lua"};
			for (size_t i = 0; i < LM_ARRAY_LEN(rel); i++) {
				char *d = xasprintf("%s%s", exe, rel[i]);
				char *probe = xasprintf("%s/reports", d);
				int ok = is_dir(probe);
				free(probe);
				if (ok)
					return d;
				free(d);
			}
		}
	}
	if (is_dir(LUMEN_DATADIR "/lua"))
		return xstrdup(LUMEN_DATADIR "/lua");
	return NULL;
}

char *host_find_script(const char *name, lm_err *err)
{
	if (is_file(name))
		return xstrdup(name);
	if (strchr(name, '/')) {
		lm_seterr(err, EX_NOINPUT, "%s: no such file", name);
		return NULL;
	}
	size_t n = strlen(name);
	char *stem = n > 4 && !strcmp(name + n - 4, ".lua") ? xstrndup(name, n - 4) : xstrdup(name);
	char *dir = host_lua_dir();
	if (dir) {
		static const char *const sub[] = {"reports/", "filters/", ""};
		for (size_t i = 0; i < LM_ARRAY_LEN(sub); i++) {
			char *p = xasprintf("%s/%s%s.lua", dir, sub[i], stem);
			if (is_file(p)) {
				free(stem);
				free(dir);
				return p;
			}
			free(p);
		}
	}
	lm_seterr(err, EX_NOINPUT, "no script '%s' (not a file, nor shipped in %s)", name,
		  dir ? dir : "$LUMEN_LUA_DIR or " LUMEN_DATADIR "/lua");
	free(stem);
	free(dir);
	return NULL;
}

/* ---- filters ---- */

struct host_filter {
	host *h;
	int fn_ref, pat_ref;  /* registry: the function of p, the reusable patient object */
	host_patient *pat;
	long nrow;
	unsigned char *mask;  /* an expression: the filter language's answers (src/ops) */
};

host_filter *host_filter_compile(host *h, const char *src, int is_file, lm_err *err)
{
	const frame *fr = host_frame(h, err);
	if (!fr)
		return NULL;
	lua_State *L = h->L;
	int top = lua_gettop(L);
	if (is_file) {
		size_t len;
		char *text = slurp(src, &len, err);
		if (!text)
			return NULL;
		int st = load_text(h, text, len, base_name(src), err);
		free(text);
		if (st || host_call(h, 0, 1, base_name(src), err))
			return NULL;
		if (lua_type(L, -1) == LUA_TSTRING) {
			/* a file may return an expression of the filter language instead */
			char *expr = xstrdup(lua_tostring(L, -1));
			lua_settop(L, top);
			host_filter *f = host_filter_compile(h, expr, 0, err);
			free(expr);
			return f;
		}
		if (!lua_isfunction(L, -1)) {
			lm_seterr(err, EX_DATAERR, "%s: a filter file must return a function of a "
						   "patient or an expression (it returned a %s)",
				  base_name(src), luaL_typename(L, -1));
			lua_settop(L, top);
			return NULL;
		}
		host_push_patient(L, 0, h->default_model);
	} else {
		/* an expression is the filter language of lumen query --where and the TUI (one
		 * compiled filter, SQL's logic), answered once for every row */
		ops_filter *of = ops_filter_compile(
			h->db, src, h->default_model >= 0 ? h->preds[h->default_model].name : NULL, err);
		ops_selection sel;
		if (!of)
			return NULL;
		int st = ops_filter_run(of, h->db, &sel, err);
		ops_filter_free(of);
		if (!st && sel.nrow != fr->nrow)
			st = lm_seterr(err, EX_SOFTWARE, "the patients changed (%ld rows, %ld before)",
				       sel.nrow, fr->nrow);
		if (st) {
			ops_selection_free(&sel);
			return NULL;
		}
		host_filter *f = xcalloc(1, sizeof *f);
		f->h = h;
		f->fn_ref = f->pat_ref = LUA_NOREF;
		f->nrow = fr->nrow;
		f->mask = sel.mask;
		sel.mask = NULL;
		ops_selection_free(&sel);
		return f;
	}
	host_filter *f = xcalloc(1, sizeof *f);
	f->h = h;
	f->pat = lua_touserdata(L, -1);
	f->pat_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	f->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	f->nrow = fr->nrow;
	lua_settop(L, top);
	return f;
}

int host_filter_match(host_filter *f, long row, lm_err *err)
{
	lua_State *L = f->h->L;
	if (row < 0 || row >= f->nrow)
		return lm_seterr(err, EX_SOFTWARE, "row %ld out of range", row), -1;
	if (f->mask)
		return f->mask[row];
	f->pat->row = row;
	lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, f->pat_ref);
	if (host_call(f->h, 1, 1, "where", err))
		return -1;
	int m = lua_toboolean(L, -1);
	lua_pop(L, 1);
	return m;
}

/* The loop over all rows in one protected call. Upvalues: none; arguments: filter pointer,
 * output array pointer (light userdata). Returns the count. */
static int filter_all(lua_State *L)
{
	host_filter *f = lua_touserdata(L, 1);
	long *out = lua_touserdata(L, 2);
	long n = 0;
	lua_rawgeti(L, LUA_REGISTRYINDEX, f->fn_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, f->pat_ref);
	for (long r = 0; r < f->nrow; r++) {
		f->pat->row = r;
		lua_pushvalue(L, 3);
		lua_pushvalue(L, 4);
		lua_call(L, 1, 1);
		if (lua_toboolean(L, -1))
			out[n++] = r;
		lua_pop(L, 1);
	}
	lua_pushinteger(L, n);
	return 1;
}

long host_filter_rows(host_filter *f, long **rows, lm_err *err)
{
	lua_State *L = f->h->L;
	long *out = xmallocarray((size_t)(f->nrow ? f->nrow : 1), sizeof *out);
	if (f->mask) {
		long n = 0;
		for (long r = 0; r < f->nrow; r++)
			if (f->mask[r])
				out[n++] = r;
		*rows = out;
		return n;
	}
	lua_pushcfunction(L, filter_all);
	lua_pushlightuserdata(L, f);
	lua_pushlightuserdata(L, out);
	if (host_call(f->h, 2, 1, "where", err)) {
		free(out);
		*rows = NULL;
		return -1;
	}
	long n = (long)lua_tointeger(L, -1);
	lua_pop(L, 1);
	*rows = out;
	return n;
}

void host_filter_free(host_filter *f)
{
	if (!f)
		return;
	luaL_unref(f->h->L, LUA_REGISTRYINDEX, f->fn_ref);
	luaL_unref(f->h->L, LUA_REGISTRYINDEX, f->pat_ref);
	free(f->mask);
	free(f);
}
