// The inspector: one journal entry in full. A push shows its signed URL and query, headers and
// body, the envelope beside its plaintext, each signature recomputed, every attempt, the raw and
// decrypted answer, the outcome and each violation; an API call its decoded body, answer and
// errcode. Any push can be replayed or edited and resent, any exchange copied as cURL.

import * as api from './api.js';
import { h, pre, copy, fmtTime } from './dom.js';

let rules = null;
async function ruleCatalog() {
  if (!rules) {
    rules = new Map();
    try {
      for (const r of (await api.get('/_emu/v1/rules')).rules) rules.set(r.id, r);
    } catch { /* explanations are optional */ }
  }
  return rules;
}

export async function inspect(root, seq, { onPushed, apps }) {
  // Entries picked in quick succession (an arrow key held down) load at once, and their answers
  // may come in any order: only the last one picked is shown.
  const ticket = String(seq) + ':' + (++picks);
  root.dataset.showing = ticket;
  const stale = () => root.dataset.showing !== ticket;
  root.replaceChildren(h('h2', { id: 'inspector-title' }, `Inspector — #${seq}`), h('p', {}, 'loading…'));
  let d;
  try {
    d = await api.get('/_emu/v1/journal/' + seq);
  } catch (err) {
    if (stale()) return;
    root.replaceChildren(h('h2', { id: 'inspector-title' }, `Inspector — #${seq}`), h('p', { class: 'error', role: 'alert' }, err.message));
    return;
  }
  if (stale()) return;
  const e = d.entry;
  const kids = [h('h2', { id: 'inspector-title' }, `Inspector — #${e.seq} ${e.kind}`),
    h('p', { class: 'summary' }, e.summary),
    h('p', { class: 'meta' }, `${e.time}${e.app ? ' · app ' + e.app : ''}${e.user ? ' · user ' + e.user : ''}${e.duration_ms ? ' · ' + e.duration_ms.toFixed(1) + ' ms' : ''}`)];
  if (e.kind === 'push') kids.push(...await pushView(e, d, { onPushed, apps }));
  else if (e.kind === 'api') {
    let media = null;
    if (e.data.path === '/cgi-bin/media/upload' && e.app) {
      try { media = (await api.get(`/_emu/v1/apps/${encodeURIComponent(e.app)}/media`)).media; } catch { /* the name is optional */ }
    }
    kids.push(...apiView(e, d, media));
  }
  else if (e.kind === 'log') kids.push(section('Output', pre(e.data.text, `${e.data.function} ${e.data.stream}${e.data.invocation ? ' · invocation ' + e.data.invocation : ''}`)));
  else {
    const x = e.data && (e.data.method ? e.data : null);
    if (x) kids.push(...exchangeView(x));
    kids.push(section('Record', pre(JSON.stringify(e.data, null, 2))));
  }
  if (stale()) return;
  root.replaceChildren(...kids);
}
let picks = 0;

function section(title, ...body) {
  return h('section', { class: 'part' }, h('h3', {}, title), ...body);
}

function curlOf(method, url, contentType, body) {
  const q = s => "'" + String(s).replaceAll("'", "'\\''") + "'";
  let c = `curl -X ${method} ${q(url)}`;
  if (contentType) c += ` -H ${q('Content-Type: ' + contentType)}`;
  if (body) c += ` --data-binary ${q(body)}`;
  return c;
}

function absolute(u) {
  return u.startsWith('/') ? location.origin + u : u;
}

async function pushView(e, d, { onPushed, apps }) {
  const r = e.data;
  const out = [];
  const app = apps.find(a => a.appid === e.app) || {};
  const mode = app.mode || 'plain';
  const line = `outcome: ${r.outcome}` + (r.kf_account ? ` to ${r.kf_account}` : '') + (r.user_sees ? ` — the user sees 「${r.user_sees}」` : '') + (e.data.probe ? ` (${e.data.probe})` : '');
  out.push(h('p', { class: 'outcome o-' + r.outcome }, line));

  // Violations first: they are why a person opens the inspector.
  if (r.violations && r.violations.length) {
    const cat = await ruleCatalog();
    out.push(section('Violations', h('ul', { class: 'violations' }, ...r.violations.map(v => {
      const rule = cat.get(v.rule);
      return h('li', { class: 'v-' + v.severity },
        h('div', {}, h('strong', {}, v.severity), ' ', h('code', {}, v.rule), ` · protocol ${v.ref}`),
        rule ? h('div', { class: 'explain' }, 'Rule: ' + rule.summary) : '',
        h('div', { class: 'fix' }, 'What happened and how to fix it: ' + v.message));
    }))));
  }

  // The request: the signed URL of each attempt with its query, headers and body.
  const first = (r.attempts && r.attempts[0]) || {};
  const u = first.url && first.url.includes('://') ? new URL(first.url) : null;
  const req = [];
  if (u) {
    req.push(h('p', {}, h('code', { class: 'wrap' }, `${r.request.method} ${first.url}`)));
    req.push(h('table', { class: 'kv', 'aria-label': 'Query parameters' },
      h('tbody', {}, ...[...u.searchParams].map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, h('code', {}, v)))))));
  } else if (first.url) {
    req.push(h('p', {}, first.url));
  }
  req.push(h('p', {}, h('code', {}, 'Content-Type: ' + r.request.content_type)));
  if (mode !== 'plain' && r.request.body !== r.request.plaintext) {
    req.push(h('div', { class: 'side-by-side' },
      pre(r.request.body, `Envelope (${mode} mode, as sent)`),
      pre(r.request.plaintext, 'Decrypted plaintext')));
  } else {
    req.push(pre(r.request.body, 'Body'));
  }
  const buttons = h('div', { class: 'row' });
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'status' });
  const replay = h('button', { type: 'button' }, 'Replay');
  replay.onclick = async () => {
    status.textContent = 'replaying…';
    try {
      const res = await api.post(`/_emu/v1/journal/${e.seq}/replay`);
      status.textContent = `replayed as #${res.journal}: ${res.result.outcome}`;
      onPushed(res.journal);
    } catch (err) { status.textContent = 'replay failed: ' + err.message; }
  };
  const edit = h('button', { type: 'button' }, 'Edit and resend');
  const editor = h('form', { class: 'stack', hidden: '' },
    h('label', { for: 'edit-body' }, u ? 'Edited message (plaintext; wxemu signs' + (mode !== 'plain' ? ' and encrypts' : '') + ' it afresh)' : 'Edited message (the function gets it as its event)'),
    h('textarea', { id: 'edit-body', rows: '8', spellcheck: 'false' }, r.request.plaintext),
    h('button', { type: 'submit' }, 'Resend edited'));
  edit.onclick = () => { editor.hidden = !editor.hidden; if (!editor.hidden) editor.querySelector('textarea').focus(); };
  editor.onsubmit = async (ev) => {
    ev.preventDefault();
    status.textContent = 'sending…';
    try {
      const res = await api.post(`/_emu/v1/journal/${e.seq}/resend`, { message: editor.querySelector('textarea').value });
      status.textContent = `resent as #${res.journal}: ${res.result.outcome}`;
      onPushed(res.journal);
    } catch (err) { status.textContent = 'resend refused: ' + err.message; }
  };
  buttons.append(replay, edit);
  if (u) {
    const curl = h('button', { type: 'button' }, 'Copy as cURL');
    curl.onclick = () => copy(curlOf('POST', first.url, r.request.content_type, r.request.body), status);
    buttons.append(curl);
  }
  req.push(buttons, editor, status);
  // A cloud function is invoked by wxemu, not called over HTTP: there is no URL to copy.
  if (!u) req.push(h('p', { class: 'hint' }, 'No cURL: this push invoked a cloud function, which no HTTP request reaches; Replay runs it again.'));
  out.push(section('Request', ...req));

  if (d.signatures && d.signatures.length) {
    out.push(section('Signatures', h('table', { class: 'grid-table' },
      h('thead', {}, h('tr', {}, ...['where', 'name', 'sent', 'recomputed', 'valid'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...d.signatures.map(s => h('tr', {},
        h('td', {}, s.where), h('td', {}, s.name), h('td', {}, h('code', {}, s.got)), h('td', { title: s.inputs }, h('code', {}, s.computed)),
        h('td', { class: s.valid ? 'ok' : 'bad' }, s.valid ? '✓ valid' : '✗ invalid')))))));
  }

  out.push(section(`Attempts (${r.attempts.length})`, h('table', { class: 'grid-table' },
    h('thead', {}, h('tr', {}, ...['#', 'started', 'ms', 'status', 'result'].map(c => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...r.attempts.map(a => h('tr', {},
      h('td', {}, String(a.n)), h('td', {}, (a.started || '').slice(11, 23)), h('td', {}, a.duration_ms.toFixed(1)),
      h('td', {}, a.status ? String(a.status) : '—'),
      h('td', {}, a.timed_out ? 'timed out' : (a.error || a.ended || 'answered'))))))));
  for (const a of r.attempts) {
    if (a.output && a.output.length) out.push(section(`Function output, attempt ${a.n}`, pre(a.output.map(o => (o.stream === 'stderr' ? '! ' : '  ') + o.text).join(''))));
  }

  if (r.answer) {
    const ans = [h('p', {}, `HTTP ${r.answer.status}` + (r.answer.content_type ? ` · ${r.answer.content_type}` : ''))];
    if (r.answer.decrypted) {
      ans.push(h('div', { class: 'side-by-side' }, pre(r.answer.body, 'Raw answer'), pre(r.answer.decrypted, 'Decrypted reply')));
    } else {
      ans.push(pre(r.answer.body, 'Raw answer'));
    }
    out.push(section('Answer', ...ans));
  }
  if (r.reply) out.push(section('Reply as judged', pre(JSON.stringify(r.reply, null, 2))));
  return out;
}

// multipart are the API paths whose request is a file upload (multipart/form-data, field
// "media"): the journal keeps no file, so their cURL names one for the person to supply.
const multipart = new Set(['/cgi-bin/media/upload', '/customservice/kfaccount/uploadheadimg']);

function exchangeView(x) {
  const status = h('p', { role: 'status', 'aria-live': 'polite', class: 'status' });
  const curl = h('button', { type: 'button' }, 'Copy as cURL');
  const path = (x.url || '').split('?')[0];
  if (multipart.has(path) && !x.request_body) {
    // A POST without its file would get 41005 (media data missing), not this answer.
    const file = x.upload_file || 'FILE';
    const note = h('p', { class: 'hint' }, `The journal keeps no uploaded file: the command sends ${file} from the current directory as the form field "media"` +
      (x.upload_file ? ' (download it under State → Media while it lives).' : '.'));
    curl.onclick = () => copy(`curl -X POST '${absolute(x.url).replaceAll("'", "'\\''")}' -F 'media=@${file.replaceAll("'", "'\\''")}'`, status);
    return [section('Exchange',
      h('p', {}, h('code', { class: 'wrap' }, `${x.method} ${x.url}`), ` → HTTP ${x.status}`),
      h('p', {}, 'Request body: multipart/form-data (a file, not kept)'),
      x.response_body ? pre(x.response_body, 'Answer') : '',
      h('div', { class: 'row' }, curl), note, status)];
  }
  const ct = x.request_body ? 'application/json' : '';
  curl.onclick = () => copy(curlOf(x.method, absolute(x.url), ct, x.request_body), status);
  return [section('Exchange',
    h('p', {}, h('code', { class: 'wrap' }, `${x.method} ${x.url}`), ` → HTTP ${x.status}`),
    x.request_body ? pre(x.request_body, 'Request body') : '',
    x.response_body ? pre(x.response_body, 'Answer') : '',
    h('div', { class: 'row' }, curl), status)];
}

function apiView(e, d, media) {
  const a = e.data;
  const out = [];
  const meaning = d.errcode ? d.errcode.errmsg || '(no text in the catalog)' : a.errmsg;
  out.push(h('p', { class: a.errcode ? 'outcome o-failed' : 'outcome o-reply' },
    `errcode ${a.errcode} — ${meaning}` + (a.via !== 'http' ? ` · via ${a.via}` : '')));
  if (a.window) {
    const w = a.window;
    const left = w.max < 0 ? 'unlimited sends' : `${w.remaining} of ${w.max} sends left after it`;
    out.push(section('What decided it', h('p', { class: 'detail' },
      `the ${w.trigger} window opened ${fmtTime(w.opened)}: ${left}, open until ${fmtTime(w.expires)}`)));
  }
  if (a.detail) out.push(section(a.window ? 'Detail' : 'What decided it', h('p', { class: 'detail' }, a.detail)));
  if (a.send) out.push(section('Decoded body', pre(JSON.stringify(a.send, null, 2))));
  if (a.method) out.push(...exchangeView({ ...a, upload_file: uploadName(a, media) }));
  return out;
}

// uploadName is the file name of the media an upload created, while wxemu keeps it.
function uploadName(a, media) {
  if (!media || !a.response_body) return '';
  let id = '';
  try { id = JSON.parse(a.response_body).media_id || ''; } catch { return ''; }
  const m = media.find(f => f.media_id === id);
  return m && m.filename ? m.filename : '';
}
