'use strict';
// wxemu's preload for a cloud function's Node worker, loaded with NODE_OPTIONS=--require (so any
// Node process the function starts gets it too). It does two things a real function's network
// would do differently:
//
//  * requests to the Tencent Cloud hosts the SDKs talk to (*.tencentcloudapi.com,
//    *.tencentyun.com) go to wxemu's tcb gateway instead: wx-server-sdk 1.x (tcb-admin-node) has
//    no setting for its URL, so this is the only way its cloud.openapi reaches wxemu (protocol
//    §8.4a);
//  * every other connection that leaves this machine is refused and reported to wxemu as a
//    finding: a function under test must not talk to the world, and a developer should know it
//    tried. Deviation: a real cloud function may reach the internet.
//
// The gateway is the URL of TCB_CONTEXT_CNFG, which newer SDKs read themselves.

const http = require('http');
const https = require('https');
const net = require('net');
const { urlToHttpOptions } = require('url');

const REPORT = Symbol.for('wxemu.report');

let gateway = null;
try {
  const cfg = JSON.parse(process.env.TCB_CONTEXT_CNFG || '{}');
  if (cfg && typeof cfg.URL === 'string') gateway = new URL(cfg.URL);
} catch (e) {
  gateway = null;
}

const tencent = /(^|\.)(tencentcloudapi\.com|tencentyun\.com)\.?$/i;

// report hands a finding to the worker's runner, which tells wxemu; a process without a runner
// (one the function started) says it on stderr.
function report(finding) {
  const r = globalThis[REPORT];
  if (typeof r === 'function') {
    r(finding);
  } else {
    process.stderr.write(`wxemu: ${finding.problem}\n`);
  }
}

function hostOf(opts) {
  let h = opts.hostname || opts.host || '';
  if (typeof h !== 'string') return '';
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const i = h.lastIndexOf(':');
  if (i > 0 && h.indexOf(':') === i) h = h.slice(0, i);
  return h;
}

// toGateway rewrites the options of a request to a Tencent Cloud host so that it goes to the
// gateway over plain HTTP, or returns null when the request is for another host.
function toGateway(opts) {
  const host = hostOf(opts);
  if (!gateway || !tencent.test(host)) return null;
  const o = Object.assign({}, opts);
  for (const k of ['host', 'hostname', 'port', 'protocol', 'agent', 'createConnection', 'socketPath',
    'servername', 'ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'checkServerIdentity']) {
    delete o[k];
  }
  o.protocol = 'http:';
  o.hostname = gateway.hostname.replace(/^\[|\]$/g, '');
  o.port = gateway.port || 80;
  let p = typeof opts.path === 'string' ? opts.path : '/';
  if (p.startsWith('/admin')) p = p.slice('/admin'.length);
  o.path = gateway.pathname.replace(/\/$/, '') + (p.startsWith('/') || p.startsWith('?') || p === '' ? p : '/' + p);
  o.headers = Object.assign({}, opts.headers || {});
  for (const k of Object.keys(o.headers)) {
    if (k.toLowerCase() === 'host') o.headers[k] = gateway.host;
  }
  return o;
}

// splitArgs reads the arguments of http.request: (url[, options][, cb]) or (options[, cb]).
function splitArgs(args) {
  let i = 0;
  let opts = {};
  if (typeof args[0] === 'string' || args[0] instanceof URL) {
    try {
      opts = urlToHttpOptions(typeof args[0] === 'string' ? new URL(args[0]) : args[0]);
    } catch (e) {
      return null;
    }
    i = 1;
  }
  if (args[i] !== null && typeof args[i] === 'object') {
    opts = Object.assign({}, opts, args[i]);
    i++;
  }
  return { opts, cb: typeof args[i] === 'function' ? args[i] : undefined };
}

const httpRequest = http.request;
for (const mod of [http, https]) {
  const original = mod.request;
  mod.request = function request(...args) {
    const split = splitArgs(args);
    const o = split && toGateway(split.opts);
    if (!o) return original.apply(this, args);
    return split.cb ? httpRequest.call(http, o, split.cb) : httpRequest.call(http, o);
  };
  mod.get = function get(...args) {
    const req = mod.request(...args);
    req.end();
    return req;
  };
}

function isLoopback(host) {
  if (host === undefined || host === null || host === '') return true; // Node connects to localhost
  const h = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\./.test(h) ||
    /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function wxemuConnect(...args) {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0];
  let host;
  let port;
  let pipe = false;
  if (opts !== null && typeof opts === 'object') {
    host = opts.host;
    port = opts.port;
    pipe = typeof opts.path === 'string' && opts.path !== '';
  } else if (typeof opts === 'string' && !/^\d+$/.test(opts)) {
    pipe = true;
  } else {
    port = opts;
    host = typeof args[1] === 'string' ? args[1] : undefined;
  }
  if (pipe || isLoopback(host)) return connect.apply(this, args);
  const where = `${host}:${port}`;
  const problem = `connection to ${where} refused: under wxemu a cloud function may reach this machine only (loopback); real WeChat would have let it out`;
  report({ host: String(host), port: Number(port) || 0, problem, stack: new Error(problem).stack });
  const err = new Error(`connect ECONNREFUSED ${where} (wxemu: a cloud function may reach loopback only)`);
  err.code = 'ECONNREFUSED';
  err.syscall = 'connect';
  err.address = String(host);
  err.port = Number(port) || 0;
  process.nextTick(() => this.destroy(err));
  return this;
};
