// The wxemu console: a client of the control API (/_emu/v1) and its journal stream, nothing else.

import * as api from './api.js';
import { h, fmtTime, fmtLeft } from './dom.js';
import { Journal } from './journal.js';
import { inspect } from './inspector.js';
import { kindsFor, renderFields, messageOf, renderLine, media } from './phone.js';

const $ = (id) => document.getElementById(id);
const st = { apps: [], app: null, user: '', clock: null, clockAt: 0, users: [] };

// same reports whether a view's data is what it last rendered, so that a refresh leaves the
// view (and the focus, and what a person is typing in it) alone when nothing changed.
const lastData = new Map();
function same(view, data) {
  const sig = JSON.stringify(data);
  if (lastData.get(view) === sig) return true;
  lastData.set(view, sig);
  return false;
}

function appKey() { return st.app ? st.app.alias || st.app.appid : ''; }
function showError(where, err) { $(where).textContent = err ? (err.message || String(err)) : ''; }

// ---- pickers
async function loadApps() {
  st.apps = (await api.get('/_emu/v1/apps')).apps;
  const picker = $('app-picker');
  picker.replaceChildren(...st.apps.map(a => h('option', { value: a.appid }, `${a.alias || a.appid} (${a.kind === 'mp' ? 'Mini Program' : 'Official Account'}, ${a.mode})`)));
  $('f-app').replaceChildren(h('option', { value: '' }, 'all'), ...st.apps.map(a => h('option', { value: a.appid }, a.alias || a.appid)));
  const saved = sessionStorage.getItem('wxemu.app');
  st.app = st.apps.find(a => a.appid === saved) || st.apps[0];
  picker.value = st.app.appid;
  eventKinds();
}

async function loadUsers(keep) {
  // By name, then openid: the configured people (alice, bob, carol) first, in a stable order.
  const users = (await api.get('/_emu/v1/users?app=' + encodeURIComponent(st.app.appid))).users
    .sort((a, b) => (a.name ? 0 : 1) - (b.name ? 0 : 1) || (a.name || a.openid).localeCompare(b.name || b.openid));
  st.users = users;
  const picker = $('user-picker');
  const want = keep || st.user || sessionStorage.getItem('wxemu.user');
  picker.replaceChildren(...users.map(u => h('option', { value: u.openid }, u.name ? `${u.name} (${u.openid})` : u.openid)));
  if (want && !users.some(u => u.openid === want)) picker.append(h('option', { value: want }, want + ' (new)'));
  st.user = want && [...picker.options].some(o => o.value === want) ? want : (users[0] ? users[0].openid : '');
  picker.value = st.user;
  $('phone-peer').textContent = (st.app.alias || st.app.appid) + ' · ' + (st.user || 'no user');
}

function eventKinds() {
  const sel = $('event-kind');
  const kinds = kindsFor(st.app.kind);
  sel.replaceChildren(...kinds.map(k => h('option', { value: k.id }, k.label)));
  renderFields($('event-fields'), kinds[0]);
}

$('app-picker').addEventListener('change', async (ev) => {
  st.app = st.apps.find(a => a.appid === ev.target.value);
  sessionStorage.setItem('wxemu.app', st.app.appid);
  st.user = '';
  eventKinds();
  await loadUsers();
  refreshAll();
});
$('user-picker').addEventListener('change', (ev) => {
  st.user = ev.target.value;
  sessionStorage.setItem('wxemu.user', st.user);
  $('phone-peer').textContent = (st.app.alias || st.app.appid) + ' · ' + st.user;
  refreshAll();
});
$('add-user').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const id = $('new-user').value.trim();
  if (!id) return;
  // The control API's rule for an openid (no space or control character, at most 64 bytes),
  // said when the user is added rather than at the first send.
  const bad = /[\u0000-\u0020\u007f]/.test(id) ? 'has a space or control character'
    : new TextEncoder().encode(id).length > 64 ? `is ${new TextEncoder().encode(id).length} bytes long, more than 64` : '';
  if (bad) {
    showError('phone-error', `the openid "${id}" ${bad}; an openid is letters, digits, - and _ (WeChat's have 28 characters, like o6_bmjrPTlm6_2sgVt7hMZOPfL2M)`);
    $('new-user').focus();
    return;
  }
  showError('phone-error', null);
  // A user exists for WeChat once they do something; until then the phone holds the name.
  st.user = id;
  sessionStorage.setItem('wxemu.user', id);
  $('new-user').value = '';
  await loadUsers(id);
  refreshAll();
});
$('event-kind').addEventListener('change', (ev) => {
  renderFields($('event-fields'), kindsFor(st.app.kind).find(k => k.id === ev.target.value));
});

// ---- the phone
// pending holds what the user sent and wxemu has not finished delivering (the bot may take up
// to three attempts of 5 s): the phone shows it at once, as WeChat does, marked "sending…".
// Deviation: WeChat's sending mark ends when its server has the message; the console keeps it
// until the push has ended, so that a slow bot shows (README: Deviations and choices).
const pending = [];
let pendingN = 0;
function pendingLine(p) {
  return h('div', { class: 'line right' }, h('div', { class: 'bubble me' }, p.text));
}
// userLines counts the user's lines of each chat the phone last showed (app and openid).
const userLines = new Map();
function shownUserLines(app, user) { return userLines.get(app + ' ' + user) || 0; }
function pendingText(msg) {
  if (msg.MsgType === 'text') return msg.Content;
  if (msg.MsgType === 'event') return `[${msg.Event}${msg.EventKey ? ' ' + msg.EventKey : ''}]`;
  return `[${msg.MsgType}]`;
}
async function send(msg) {
  showError('phone-error', null);
  if (!st.user) { showError('phone-error', 'Pick or add a user first.'); return; }
  // known: the user's lines the phone showed before this message; the transcript holds the
  // message as soon as wxemu takes it, and then the phone shows it from there, once.
  const p = { n: ++pendingN, app: st.app.appid, user: st.user, text: pendingText(msg), known: shownUserLines(st.app.appid, st.user) };
  pending.push(p);
  const chat = $('chat');
  const el = pendingLine(p);
  el.dataset.key = 'pending ' + p.n;
  markSending(el, true);
  chat.append(el);
  chatAtBottom = true;
  pinChat();
  try {
    await api.post(`/_emu/v1/users/${encodeURIComponent(st.user)}/send`, { app: st.app.appid, ...msg });
  } catch (err) {
    showError('phone-error', err);
  } finally {
    pending.splice(pending.indexOf(p), 1);
    chatSig = '';
  }
  refreshAll();
}
$('composer').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const text = $('message').value;
  if (!text.trim()) return;
  $('message').value = '';
  send({ MsgType: 'text', Content: text });
});
$('message').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $('composer').requestSubmit(); }
});
$('event-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const kind = kindsFor(st.app.kind).find(k => k.id === $('event-kind').value);
  send(messageOf(kind, $('event-fields')));
});

let chatSig = '';
// The chat stays at its newest line while the person has not scrolled up, also when an image
// loads after the render or the typing line takes room from it.
let chatAtBottom = true;
// pinnedTop is where pinChat put the chat: the scroll event of that move comes a frame later,
// maybe after an image has made the chat taller, and must not count as the person scrolling up.
let pinnedTop = -1;
function pinChat() {
  if (!chatAtBottom) return;
  const c = $('chat');
  c.scrollTop = c.scrollHeight;
  pinnedTop = c.scrollTop;
}
$('chat').addEventListener('scroll', () => {
  const c = $('chat');
  if (c.scrollTop === pinnedTop) return;
  chatAtBottom = c.scrollTop + c.clientHeight >= c.scrollHeight - 4;
  if (chatAtBottom) pinnedTop = c.scrollTop;
});
$('chat').addEventListener('load', pinChat, true);
new ResizeObserver(pinChat).observe($('chat'));
async function refreshChat() {
  const chat = $('chat');
  if (!st.user) { chat.replaceChildren(h('p', { class: 'hint' }, 'No user yet: add one above.')); return; }
  const app = st.app.appid, user = st.user;
  const [t, md] = await Promise.all([
    api.get(`/_emu/v1/users/${encodeURIComponent(user)}/transcript?app=${encodeURIComponent(app)}`),
    api.get(`/_emu/v1/apps/${encodeURIComponent(app)}/media`),
  ]);
  // Another user or app was picked meanwhile: this chat is not the one to show.
  if (app !== st.app.appid || user !== st.user) return;
  media.clear();
  for (const f of md.media) media.add(f.media_id);
  const sig = st.app.appid + st.user + pending.length + ':' + t.lines.length + (t.lines.length ? t.lines[t.lines.length - 1].time : '') + media.size;
  if (sig === chatSig) return;
  chatSig = sig;
  userLines.set(st.app.appid + ' ' + st.user, t.lines.filter(l => l.from === 'user').length);
  // The messages still being delivered: those the transcript holds already are marked there,
  // the others are shown after it.
  const mine = pending.filter(p => p.app === st.app.appid && p.user === st.user);
  const held = mine.length ? t.lines.filter(l => l.from === 'user').length - mine[0].known : 0;
  let marks = Math.max(0, Math.min(held, mine.length));
  const sending = new Set();
  for (let i = t.lines.length - 1; i >= 0 && marks > 0; i--) {
    if (t.lines[i].from === 'user') { sending.add(i); marks--; }
  }
  const items = t.lines.map((l, i) => {
    const img = (l.text || '').match(/^\[image ([^\]\s]+)\]/);
    return { key: st.app.appid + ' ' + st.user + ' ' + JSON.stringify(l) + (img && media.has(img[1]) ? ' +media' : ''), node: () => renderLine(l), sending: sending.has(i) };
  });
  for (const p of mine.slice(Math.max(0, held))) items.push({ key: 'pending ' + p.n, node: () => pendingLine(p), sending: true });
  drawChat(chat, items);
}

// drawChat makes the chat show items ({key, node(), sending}). The chat is a log
// (role="log"): the lines already on screen stay as they are and new ones are appended, so
// that a screen reader reads the new lines only, not the whole chat again.
function drawChat(chat, items) {
  const kids = [...chat.children];
  let i = 0;
  while (i < kids.length && i < items.length && kids[i].dataset.key === items[i].key) i++;
  for (const k of kids.slice(i)) k.remove();
  for (const it of items.slice(i)) {
    const el = it.node();
    el.dataset.key = it.key;
    chat.append(el);
  }
  items.forEach((it, j) => markSending(chat.children[j], it.sending));
  if (i === 0) chatAtBottom = true;
  pinChat();
}

// markSending puts the "sending…" mark on a line of the chat, or takes it off.
function markSending(el, on) {
  const mark = el.querySelector(':scope > .sending');
  el.classList.toggle('pending', on);
  if (on && !mark) el.append(h('div', { class: 'who sending' }, 'sending…'));
  if (!on && mark) mark.remove();
}

function refreshTyping() {
  const u = st.users.find(x => x.openid === st.user);
  const on = u && u.typing_until && st.clock && new Date(u.typing_until) > nowVirtual();
  $('typing').hidden = !on;
}

// ---- the clock
function nowVirtual() {
  return new Date(new Date(st.clock.now).getTime() + (Date.now() - st.clockAt));
}
async function refreshClock() {
  st.clock = await api.get('/_emu/v1/clock');
  st.clockAt = Date.now();
  tickClock();
}
function tickClock() {
  // The offset to whole seconds: "+47h59m48s", not Go's "+47h59m48.371768926s".
  if (st.clock) $('clock-now').textContent = fmtTime(nowVirtual().toISOString()) + (st.clock.advanced !== '0s' ? ` (+${st.clock.advanced.replace(/(\d+)\.\d+s$/, '$1s').replace(/^\d+(\.\d+)?(ms|µs|ns)$/, '0s')})` : '');
}
for (const b of document.querySelectorAll('[data-advance]')) {
  b.addEventListener('click', async () => {
    $('clock-status').textContent = '';
    try { await api.post('/_emu/v1/clock/advance', { by: b.dataset.advance }); } catch (err) { $('clock-status').textContent = `${b.textContent}: ${err.message}`; }
    refreshAll();
  });
}
// What the clock buttons did, or why not, is said beside them in the header.
$('next-expiry').addEventListener('click', async () => {
  try {
    const r = await api.post('/_emu/v1/clock/next');
    const x = r.expired;
    $('clock-status').textContent = `clock moved to ${fmtTime(x.at)}: ${x.kind} expired — ${x.what}${x.openid ? ' · ' + x.openid : ''}`;
  } catch (err) { $('clock-status').textContent = 'Next expiry: ' + err.message; }
  refreshAll();
});

// ---- agents
async function refreshAgents() {
  const app = st.app.appid;
  const [ag, q, ex] = await Promise.all([
    api.get('/_emu/v1/agents?app=' + encodeURIComponent(app)),
    api.get('/_emu/v1/queue?app=' + encodeURIComponent(app)),
    api.get('/_emu/v1/expiries'),
  ]);
  if (app !== st.app.appid) return; // another app was picked meanwhile
  // A session's end as the emulator counts it (kf.session_timeout, kf.session_anchor).
  const ends = new Map(ex.expiries.filter(x => x.kind === 'session' && x.app === st.app.appid).map(x => [x.openid, new Date(x.at).getTime()]));
  if (same('agents', [st.app.appid, ag, q, [...ends]])) return;
  const now = nowVirtual();
  const body = $('agents-body');
  const kids = [];
  kids.push(h('h3', {}, `Waiting (${q.count})`));
  if (!q.waiting.length) kids.push(h('p', { class: 'hint' }, 'Nobody waits.'));
  for (const w of q.waiting) {
    const li = h('div', { class: 'card-row' }, h('span', {}, `${w.openid}${w.kf_account ? ' → ' + w.kf_account : ''} · since ${fmtTime(w.since).slice(11)}`));
    for (const a of ag.agents.filter(a => !w.kf_account || a.kf_account === w.kf_account)) {
      // Each button names the user too: with several waiting, "Accept as 客服小王" alone would
      // name several buttons alike for a screen reader.
      li.append(actionButton(['Accept', hidden(' ' + w.openid), ` as ${a.kf_nick || a.kf_account}`], `/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/accept`, { app: st.app.appid, openid: w.openid },
        `accept ${w.openid} ${a.kf_account}`, `reply ${a.kf_account} ${w.openid}`));
    }
    kids.push(li);
  }
  kids.push(h('h3', {}, 'Agents'));
  for (const a of ag.agents) {
    const card = h('div', { class: 'agent' },
      h('div', { class: 'agent-head' }, h('strong', {}, a.kf_nick || a.kf_account), ` ${a.kf_account}`),
      h('div', { class: 'row' },
        toggle(`${a.kf_account} online`, 'online', a.online, (v) => api.post(`/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/status`, { app: st.app.appid, online: v })),
        toggle(`${a.kf_account} auto-accept`, 'auto-accept', a.auto_accept, (v) => api.post(`/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/status`, { app: st.app.appid, auto_accept: v })),
        h('span', { class: 'hint' }, `${a.accepted_case}/${a.capacity} sessions`)));
    for (const s of a.sessions) {
      const end = ends.get(s.openid) || new Date(s.created).getTime() + 30 * 60 * 1000;
      const form = h('form', { class: 'inline' },
        h('label', { class: 'sr-only', for: `reply-${a.kf_id}-${s.openid}` }, `Reply to ${s.openid} as ${a.kf_account}`),
        h('input', { id: `reply-${a.kf_id}-${s.openid}`, placeholder: 'reply', autocomplete: 'off', size: '14', 'data-focus': `reply ${a.kf_account} ${s.openid}` }),
        h('button', { type: 'submit', 'data-focus': `replybtn ${a.kf_account} ${s.openid}` }, 'Reply', hidden(` to ${s.openid}`)));
      // What became of the reply is said in the Agents region's status line, which outlives
      // the panel's next render.
      form.onsubmit = async (ev) => {
        ev.preventDefault();
        const input = form.querySelector('input');
        const status = $('agents-status');
        status.textContent = '';
        agentsFocus = `reply ${a.kf_account} ${s.openid}`;
        try {
          const r = await api.post(`/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/reply`, { app: st.app.appid, openid: s.openid, text: input.value });
          status.textContent = `Reply to ${s.openid}: ` + (r.delivered ? 'delivered' : `not delivered: ${r.errcode} ${r.errmsg}${r.detail ? ' — ' + r.detail : ''}`);
          input.value = '';
        } catch (err) { status.textContent = `Reply to ${s.openid}: ${err.message}`; }
        refreshAll();
      };
      const others = ag.agents.filter(o => o.kf_account !== a.kf_account);
      const sw = h('select', { 'aria-label': `Switch ${s.openid} to`, 'data-focus': `switchto ${a.kf_account} ${s.openid}` }, ...others.map(o => h('option', { value: o.kf_account }, o.kf_account)));
      const swb = h('button', { type: 'button', 'data-focus': `switch ${a.kf_account} ${s.openid}` }, 'Switch', hidden(' ' + s.openid));
      swb.onclick = () => act(`/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/switch`, { app: st.app.appid, openid: s.openid, to: sw.value }, 'agents-status', `Switch ${s.openid}`, `reply ${sw.value} ${s.openid}`);
      card.append(h('div', { class: 'session' },
        h('div', {}, `serving ${s.openid} · ends in `, h('span', { class: 'countdown', 'data-end': String(end) }, fmtLeft(end - now))),
        form, status,
        h('div', { class: 'row' }, others.length ? sw : '', others.length ? swb : '',
          actionButton(['Close', hidden(` session with ${s.openid}`)], `/_emu/v1/agents/${encodeURIComponent(a.kf_account)}/close`, { app: st.app.appid, openid: s.openid },
            `close ${a.kf_account} ${s.openid}`))));
    }
    kids.push(card);
  }
  // The panel is drawn anew: the focus goes back to the control that had it, or to where the
  // action leads (Accept to the reply box of the new session), or, when its control is gone
  // (Close), to the panel's heading, so that a keyboard user is not sent back to the page's top.
  const had = body.contains(document.activeElement) ? document.activeElement.dataset.focus || '' : null;
  body.replaceChildren(...kids);
  const find = (k) => k && [...body.querySelectorAll('[data-focus]')].find(el => el.dataset.focus === k);
  // The wanted control may come with a later render (the stream can redraw the panel before
  // the action's answer): it stays wanted until it is there.
  const wanted = find(agentsFocus);
  if (wanted) agentsFocus = null;
  const el = wanted || find(had);
  if (el) el.focus();
  else if (had !== null) $('agents-title').focus();
}
// agentsFocus names (data-focus) the control to focus once the panel is drawn after an action.
let agentsFocus = null;

function toggle(label, text, on, set) {
  const input = h('input', { type: 'checkbox', 'aria-label': label, 'data-focus': label });
  input.checked = on;
  input.onchange = async () => {
    $('agents-status').textContent = '';
    try { await set(input.checked); } catch (err) { $('agents-status').textContent = `${label}: ${err.message}`; }
    refreshAll();
  };
  return h('label', { class: 'toggle' }, input, ' ' + text);
}

// hidden is text for a screen reader only: it tells apart buttons that look alike.
function hidden(text) { return h('span', { class: 'sr-only' }, text); }

// actionButton is an agent's action; what goes wrong is said in the Agents region, where the
// person clicked.
// key names the button for the focus (data-focus); next is the control to focus after it.
function actionButton(label, path, body, key, next) {
  const b = h('button', { type: 'button', 'data-focus': key }, label);
  b.onclick = () => act(path, body, 'agents-status', b.textContent, next || '');
  return b;
}
// act posts a control call and says in the status element `where` what went wrong; it reports
// whether the call succeeded.
async function act(path, body, where = 'agents-status', what = '', next = '') {
  $(where).textContent = '';
  if (where === 'agents-status') agentsFocus = next || null;
  let ok = true;
  try { await api.post(path, body); } catch (err) { ok = false; agentsFocus = null; $(where).textContent = (what ? what + ': ' : '') + err.message; }
  refreshAll();
  return ok;
}

// ---- time and limits
async function refreshLimits() {
  const app = st.app.appid, user = st.user;
  const [ex, g] = await Promise.all([
    api.get('/_emu/v1/expiries'),
    user ? api.get(`/_emu/v1/users/${encodeURIComponent(user)}/grants?app=${encodeURIComponent(app)}`) : Promise.resolve({ grants: [] }),
  ]);
  if (app !== st.app.appid || user !== st.user) return; // another user or app was picked meanwhile
  if (same('limits', [st.app.appid, st.user, ex.expiries.map(({ in: _in, ...x }) => x), g.grants])) return;
  const now = nowVirtual();
  const kids = [h('h3', {}, 'Windows'), h('p', { class: 'hint' }, `of ${st.user || '—'}, the bot's customer-service messages count against them`)];
  if (!g.grants.length) kids.push(h('p', { class: 'hint' }, 'No open window: the bot cannot send this user customer-service messages.'));
  for (const w of g.grants) {
    const max = w.max < 0 ? null : w.max;
    const left = new Date(w.expires).getTime();
    kids.push(h('div', { class: 'meter' },
      h('div', {}, h('strong', {}, w.trigger), ' window · ', max === null ? 'unlimited sends' : `${w.remaining} of ${max} sends left`,
        ' · closes in ', h('span', { class: 'countdown', 'data-end': String(left) }, fmtLeft(left - now))),
      max === null ? '' : h('meter', { min: '0', max: String(max), value: String(w.remaining), 'aria-label': `${w.trigger} window: sends left` })));
  }
  kids.push(h('h3', {}, 'Next expiries'));
  const list = ex.expiries.filter(x => x.app === st.app.appid).slice(0, 12);
  if (!list.length) kids.push(h('p', { class: 'hint' }, 'Nothing of this app expires.'));
  kids.push(h('ul', { class: 'expiries' }, ...list.map(x => h('li', {}, `${x.kind} · ${x.openid ? x.openid + ' · ' : ''}${x.what} · `,
    x.wall ? `in ${x.in} (wall time)` : h('span', { class: 'countdown', 'data-end': String(new Date(x.at).getTime()) }, fmtLeft(new Date(x.at) - now))))));
  $('limits-body').replaceChildren(...kids);
}

// ---- state: tokens, media, export, import, reset
async function refreshState() {
  const app = st.app.appid;
  const [tk, md] = await Promise.all([
    api.get(`/_emu/v1/apps/${encodeURIComponent(app)}/tokens`),
    api.get(`/_emu/v1/apps/${encodeURIComponent(app)}/media`),
  ]);
  if (app !== st.app.appid) return; // another app was picked meanwhile
  if (same('state', [tk, md])) return;
  const kids = [h('h3', {}, `Access tokens (${tk.token_time} time)`)];
  if (!tk.tokens.length) kids.push(h('p', { class: 'hint' }, 'No token issued yet.'));
  kids.push(h('ul', { class: 'tokens' }, ...tk.tokens.map(t => h('li', {}, h('code', {}, t.value.slice(0, 16) + '…'),
    ` ${t.stable ? 'stable' : 'plain'}${t.current ? ', current' : ''}${t.expired ? ', expired by hand' : ''} · valid until ${fmtTime(t.valid_until)}`))));
  kids.push(h('h3', {}, `Media (${md.media.length})`));
  kids.push(h('div', { class: 'media-grid' }, ...md.media.map(m => h('figure', {},
    m.type === 'image' || m.type === 'thumb' ? h('img', { src: m.url, alt: `${m.type} ${m.filename}`, loading: 'lazy' }) : h('div', { class: 'card' }, m.type),
    h('figcaption', {}, h('a', { href: m.url, download: m.filename }, m.filename || m.media_id), ` ${m.size} B · expires ${fmtTime(m.expires)}`)))));
  $('state-body').replaceChildren(...kids);
}

$('export').addEventListener('click', async () => {
  try {
    const resp = await api.raw('/_emu/v1/state');
    download(await resp.blob(), 'wxemu-state.json');
    $('state-status').textContent = 'state exported';
  } catch (err) { $('state-status').textContent = 'export failed: ' + err.message; }
});
$('import').addEventListener('change', async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  try {
    await api.put('/_emu/v1/state', await file.text());
    $('state-status').textContent = `imported ${file.name}`;
  } catch (err) { $('state-status').textContent = 'import refused: ' + err.message; }
  ev.target.value = '';
  chatSig = '';
  await loadUsers();
  refreshAll();
});
$('reset').addEventListener('click', async () => {
  if (!confirm('Forget all state (users, windows, tokens, media, sessions, the journal)?')) return;
  if (!await act('/_emu/v1/reset', undefined, 'state-status', 'reset failed')) return;
  $('state-status').textContent = 'reset: all state forgotten, configured users seeded again';
  chatSig = '';
  // The journal was emptied too.
  journal.load((await api.get('/_emu/v1/journal?brief=true')).entries);
});

function download(blob, name) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

// ---- recording (the control API's /_emu/v1/recording)
// recordable is false once the control API said it has no recording routes (404): asking again
// on every refresh would only fill the journal with findings.
let recordable = true;
async function refreshRecording() {
  if (!recordable) return;
  let r;
  try {
    r = await api.get('/_emu/v1/recording');
  } catch (err) {
    $('record').hidden = false;
    $('stop-record').hidden = true;
    if (err.status === 404) {
      recordable = false;
      $('record').disabled = true;
      $('record').title = 'this wxemu has no recording API (/_emu/v1/recording)';
    }
    return;
  }
  $('record').hidden = r.recording;
  $('stop-record').hidden = !r.recording;
  // Only the recording line is cleared here: what Stop said (the file downloaded) stays.
  if (r.recording) $('rec-status').textContent = `● recording ${r.name || ''} (${r.actions} action${r.actions === 1 ? '' : 's'})`;
  else if ($('rec-status').textContent.startsWith('● recording')) $('rec-status').textContent = '';
}
$('record').addEventListener('click', async () => {
  try {
    await api.post('/_emu/v1/recording/start', {});
    await refreshRecording();
    $('stop-record').focus();
  } catch (err) { $('rec-status').textContent = 'cannot record: ' + err.message; }
});
$('stop-record').addEventListener('click', async () => {
  try {
    const resp = await api.raw('/_emu/v1/recording/stop', { method: 'POST' });
    const cd = resp.headers.get('Content-Disposition') || '';
    const m = cd.match(/filename="([^"]+)"/);
    const name = m ? m[1] : 'scenario.yaml';
    download(await resp.blob(), name);
    await refreshRecording();
    $('rec-status').textContent = `scenario downloaded: ${name}`;
  } catch (err) {
    await refreshRecording();
    $('rec-status').textContent = 'stop failed: ' + err.message;
  }
  $('record').focus();
});

// ---- the journal and the refresh loop
const journal = new Journal({
  list: $('journal-list'), spacer: $('journal-spacer'), count: $('journal-count'),
  filters: { app: $('f-app'), user: $('f-user'), kind: $('f-kind'), verdict: $('f-verdict'), text: $('f-text'), follow: $('f-follow') },
  onGap: async (since) => {
    try {
      journal.merge((await api.get('/_emu/v1/journal?brief=true&since=' + since)).entries);
    } catch { /* the next gap tries again */ }
  },
  onPick: (seq, focus) => {
    inspect($('inspector'), seq, { apps: st.apps, onPushed: () => {} });
    if (focus) $('inspector').focus();
  },
});

let refreshing = null, again = false;
function refreshAll() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    try {
      await refreshClock();
      const tasks = [refreshChat(), refreshAgents(), refreshLimits(), refreshState(), refreshRecording(),
        api.get('/_emu/v1/users?app=' + encodeURIComponent(st.app.appid)).then(async r => {
          // A user added on the phone becomes WeChat's with their first message.
          if (r.users.length !== st.users.length) await loadUsers(st.user);
          st.users = r.users;
          refreshTyping();
        })];
      const res = await Promise.allSettled(tasks);
      const bad = res.find(r => r.status === 'rejected');
      $('conn').dataset.err = bad ? bad.reason.message : '';
    } finally {
      refreshing = null;
      if (again) { again = false; setTimeout(refreshAll, 50); }
    }
  })();
  return refreshing;
}
// A burst of entries refreshes the views once, not once per entry.
let soon = null;
function refreshSoon() {
  if (soon) return;
  soon = setTimeout(() => { soon = null; refreshAll(); }, 150);
}

setInterval(() => {
  tickClock();
  const now = nowVirtual().getTime();
  for (const el of document.querySelectorAll('.countdown')) el.textContent = fmtLeft(Number(el.dataset.end) - now);
  refreshTyping();
}, 1000);

async function main() {
  try {
    await loadApps();
    await loadUsers();
    $('f-kind').append(...['push', 'api', 'kf', 'state', 'control', 'unknown', 'log'].map(k => h('option', { value: k }, k)));
    const j = await api.get('/_emu/v1/journal?brief=true');
    journal.load(j.entries);
    journal.dropped = j.dropped;
    // For the benchmark: when the journal's rows were first on screen, from the navigation.
    requestAnimationFrame(() => {
      document.body.dataset.journalMs = performance.now().toFixed(1);
      document.body.dataset.journalLoaded = String(j.entries.length);
    });
    api.stream(j.last_seq, (e) => {
      journal.add(e);
      // The console's own reads change nothing; a refresh for them would loop.
      if (!((e.kind === 'control' || e.kind === 'unknown') && e.summary.startsWith('GET '))) refreshSoon();
    }, (s) => { $('conn').textContent = s; }, async (last) => {
      // Reconnected: if the journal's numbers went back, this is a wxemu started anew; the
      // page shows its journal and state instead of the old one.
      const now = await api.get('/_emu/v1/journal?brief=true');
      if (now.last_seq >= last) return last;
      journal.load(now.entries);
      journal.dropped = now.dropped;
      chatSig = '';
      lastData.clear();
      await loadApps();
      await loadUsers();
      refreshAll();
      return now.last_seq;
    });
    await refreshAll();
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('conn').textContent = 'error: ' + err.message;
    document.body.prepend(h('p', { class: 'error', role: 'alert' }, 'The console cannot reach the control API: ' + err.message));
  }
}
main();
