// The control API client: every call carries the control token when the page was opened with
// one (?token=, kept in sessionStorage), and the journal stream is read with fetch so that it
// can carry it too (EventSource cannot send headers).

const params = new URLSearchParams(location.search);
if (params.has('token')) {
  sessionStorage.setItem('wxemu.token', params.get('token'));
  params.delete('token');
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
}
const token = sessionStorage.getItem('wxemu.token') || '';

function headers(extra = {}) {
  const h = { ...extra };
  if (token) h.Authorization = 'Bearer ' + token;
  return h;
}

export class APIError extends Error {
  constructor(status, body) {
    super(body && (body.error || body.errmsg) ? (body.error || body.errmsg) : 'HTTP ' + status);
    this.status = status;
    this.body = body;
  }
}

async function answer(resp) {
  const text = await resp.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (!resp.ok) throw new APIError(resp.status, body);
  return body;
}

export async function get(path) {
  return answer(await fetch(path, { headers: headers(), cache: 'no-store' }));
}

export async function post(path, body) {
  const init = { method: 'POST', headers: headers() };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return answer(await fetch(path, init));
}

export async function put(path, text) {
  return answer(await fetch(path, { method: 'PUT', headers: headers({ 'Content-Type': 'application/json' }), body: text }));
}

// raw fetches a control path and returns the Response (for downloads).
export async function raw(path, init = {}) {
  const resp = await fetch(path, { ...init, headers: headers(init.headers || {}) });
  if (!resp.ok) throw new APIError(resp.status, await resp.json().catch(() => null));
  return resp;
}

// stream reads GET /_emu/v1/journal/stream as server-sent events and calls onEntry with each
// entry; it reconnects from the last sequence number it saw.
// onReconnect(last), when given, is awaited before each reconnection and returns the sequence
// number to go on from: a wxemu started anew numbers its journal from 1 again, and asking it for
// what follows the old number would show nothing new.
export function stream(since, onEntry, onState, onReconnect) {
  let last = since;
  let stopped = false;
  let ctrl;
  let again = false;
  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        if (again && onReconnect) last = await onReconnect(last);
        again = true;
        const resp = await fetch('/_emu/v1/journal/stream' + (last ? '?since=' + last : ''),
          { headers: headers({ Accept: 'text/event-stream' }), signal: ctrl.signal, cache: 'no-store' });
        if (!resp.ok) throw new APIError(resp.status, await resp.json().catch(() => null));
        onState('live');
        const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (!data) continue;
            try {
              const e = JSON.parse(data);
              if (e.seq > last) last = e.seq;
              onEntry(e);
            } catch { /* a broken event is skipped; the list can be reloaded */ }
          }
        }
      } catch (err) {
        if (stopped) return;
        onState('disconnected: ' + err.message);
      }
      if (!stopped) {
        onState('reconnecting…');
        await new Promise(r => setTimeout(r, 1000));
      }
    }
  }
  run();
  return () => { stopped = true; if (ctrl) ctrl.abort(); };
}
