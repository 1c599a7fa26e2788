'use strict';
// wxemu's runner: the main script of a cloud function's warm Node worker. It loads the function's
// index.js once, then runs exports.main for each invocation wxemu sends, one at a time, the way
// the SCF Node runtime does (protocol §8.4a): main(event, context[, callback]) answered by its
// promise, its callback or context.done.
//
// It talks to wxemu over a private pipe, never stdout: commands arrive as JSON lines on fd 3 and
// reports leave as JSON lines on fd 4. What the function prints goes to wxemu too, each write
// tagged with the invocation it happened in.

const fs = require('fs');
const net = require('net');
const path = require('path');
const util = require('util');

const IN_FD = 3;
const OUT_FD = 4;

// send writes one report. It is synchronous so that nothing is lost when the function exits.
function send(msg) {
  const buf = Buffer.from(JSON.stringify(msg) + '\n');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(OUT_FD, buf, off);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      // wxemu is gone: nothing is left to report to.
      process.exit(0);
    }
  }
}

// current is the invocation running or, once it has ended, the last one.
let current = null;

function tag() {
  return current ? current.id : '';
}

for (const name of ['stdout', 'stderr']) {
  const stream = process[name];
  stream.write = function write(chunk, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    let text;
    if (typeof chunk === 'string') {
      text = encoding && encoding !== 'utf8' && encoding !== 'utf-8' ? Buffer.from(chunk, encoding).toString('utf8') : chunk;
    } else {
      text = Buffer.from(chunk).toString('utf8');
    }
    send({ t: 'out', inv: tag(), stream: name, text });
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  };
}

globalThis[Symbol.for('wxemu.report')] = (finding) => {
  send(Object.assign({ t: 'finding', inv: tag() }, finding));
};

// clean drops the frames of this harness and of Node's internals from a stack trace: what is
// left is the function's code and its node_modules.
function clean(stack) {
  return stack.split('\n').filter((l) => !l.includes(__filename) && !/^\s+at (.* \()?node:/.test(l)).join('\n');
}

// describe turns what was thrown (or passed to a callback as its error) into a report.
function describe(err, fallback) {
  if (err instanceof Error) {
    return { message: err.message || fallback || String(err), stack: clean(util.inspect(err)) };
  }
  const shown = util.inspect(err);
  return { message: `${fallback || 'failed'} with ${shown} (not an Error)`, stack: shown };
}

let main = null;
let loadError = null;
try {
  const mod = require(path.join(process.cwd(), 'index.js'));
  main = mod && mod.main;
  if (typeof main !== 'function') {
    const got = mod && Object.prototype.hasOwnProperty.call(mod, 'main') ? `exports main as ${main === null ? 'null' : typeof main}, not a function` : 'does not export main';
    const others = mod && typeof mod === 'object' ? Object.keys(mod) : [];
    loadError = {
      message: `index.js ${got}${others.length ? ` (it exports ${others.join(', ')})` : ''}: write exports.main = async (event, context) => { … }`,
      stack: '',
      nomain: true,
    };
  }
} catch (e) {
  loadError = describe(e, 'loading index.js failed');
}
send({ t: 'ready', ok: !loadError, error: loadError });

// counts is how many active resources (handles and requests) of each type the process holds.
// (Node 16 cannot tell: there an invocation that returned nothing ends at once.)
function counts() {
  const c = {};
  if (typeof process.getActiveResourcesInfo !== 'function') return c;
  for (const t of process.getActiveResourcesInfo()) c[t] = (c[t] || 0) + 1;
  return c;
}

function settle(inv, err, value, how) {
  if (inv.settled) {
    if (how === 'callback') {
      send({ t: 'out', inv: inv.id, stream: 'stderr', text: 'wxemu: callback or context.done was called after the invocation had ended; ignored\n' });
    }
    return;
  }
  inv.settled = true;
  if (inv.poll) clearTimeout(inv.poll);
  if (err !== null && err !== undefined) {
    send({ t: 'done', inv: inv.id, ok: false, how, error: describe(err, how === 'promise' ? 'the promise was rejected' : 'the callback reported an error') });
    return;
  }
  let json;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (e) {
    send({ t: 'done', inv: inv.id, ok: false, how: 'result', error: describe(e, 'the return value is not JSON') });
    return;
  }
  if (json === undefined) json = 'null';
  const size = Buffer.byteLength(json);
  if (size > inv.limit) {
    send({ t: 'done', inv: inv.id, ok: true, how, size, result: json.slice(0, 256), tooLarge: true });
    return;
  }
  send({ t: 'done', inv: inv.id, ok: true, how, size, result: json });
}

// waitIdle ends an invocation whose main returned nothing synchronously and never called back
// when the work it started is over: when the process holds no more resources than before main.
// Deviation: SCF's rule for this case is not documented; this is the "empty event loop" rule of
// callback-style runtimes, judged by the count of Node's active handles and requests.
function waitIdle(inv, before) {
  const check = () => {
    if (inv.settled) return;
    const now = counts();
    for (const t of Object.keys(now)) {
      if (now[t] > (before[t] || 0)) {
        inv.poll = setTimeout(check, 10);
        inv.poll.unref();
        return;
      }
    }
    settle(inv, null, null, 'idle');
  };
  inv.poll = setTimeout(check, 10);
  inv.poll.unref();
}

function invoke(msg) {
  const inv = { id: msg.inv, settled: false, limit: msg.limit, poll: null };
  current = inv;
  for (const [k, v] of Object.entries(msg.env || {})) process.env[k] = v;
  for (const k of msg.unset || []) delete process.env[k];
  if (loadError) {
    inv.settled = true;
    send({ t: 'done', inv: inv.id, ok: false, how: 'load', error: loadError });
    return;
  }
  const deadline = Date.now() + msg.context.time_limit_in_ms;
  const done = (err, value) => settle(inv, err, value, 'callback');
  const context = Object.assign({}, msg.context, {
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done,
  });
  const before = counts();
  let r;
  try {
    r = main(msg.event, context, done);
  } catch (e) {
    settle(inv, e, undefined, 'exception');
    return;
  }
  if (inv.settled) return;
  if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
    r.then((v) => settle(inv, null, v, 'promise'), (e) => settle(inv, e === undefined || e === null ? new Error(`the promise was rejected with ${e}`) : e, undefined, 'promise'));
    return;
  }
  if (r !== undefined) {
    settle(inv, null, r, 'return');
    return;
  }
  send({ t: 'pending', inv: inv.id });
  waitIdle(inv, before);
}

process.on('uncaughtException', (err, origin) => {
  const inv = current && !current.settled ? current : null;
  const how = origin === 'unhandledRejection' ? 'unhandled' : 'uncaught';
  // The worker is about to exit: the report says so, so that wxemu starts another for the next
  // invocation rather than hand it to this one.
  if (inv) {
    inv.settled = true;
    send({ t: 'done', inv: inv.id, ok: false, how, fatal: true, error: describe(err, how === 'unhandled' ? 'a promise was rejected and nothing handled it' : 'uncaught exception') });
  }
  send({ t: 'fatal', inv: tag(), how, error: describe(err, 'uncaught exception') });
  process.exit(70);
});

process.on('exit', (code) => {
  if (current && !current.settled) {
    current.settled = true;
    send({ t: 'exit', inv: current.id, code });
  }
});

const input = new net.Socket({ fd: IN_FD, readable: true, writable: false });
input.setEncoding('utf8');
let pending = '';
input.on('data', (data) => {
  pending += data;
  let i;
  while ((i = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    if (line === '') continue;
    const msg = JSON.parse(line);
    if (msg.t === 'invoke') invoke(msg);
  }
});
// wxemu closed the pipe: the worker is no longer wanted.
input.on('end', () => process.exit(0));
input.on('error', () => process.exit(0));
