// Small DOM helpers: elements are built with textContent, never from HTML strings, so that
// nothing a bot or a user sends can run in the page.

export function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === undefined || k === null || k === '') continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

let preN = 0;
export function pre(text, label) {
  const id = 'pre-' + (++preN);
  const box = h('pre', { tabindex: '0', 'aria-labelledby': label ? id + '-l' : undefined, 'aria-label': label ? undefined : 'text' }, text == null ? '' : String(text));
  if (!label) return box;
  return h('div', { class: 'pre-box' }, h('div', { class: 'pre-label', id: id + '-l' }, label), box);
}

export async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = 'copied';
  } catch {
    // Without clipboard access (plain http on another name), show it to copy by hand.
    status.textContent = '';
    status.append(h('textarea', { rows: '4', 'aria-label': 'cURL command', readonly: true }, text));
  }
}

export function fmtTime(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', ' UTC') : '';
}

export function fmtLeft(ms) {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), ss = s % 60;
  if (d) return `${d}d ${hh}h ${m}m`;
  if (hh) return `${hh}h ${m}m ${ss}s`;
  return `${m}m ${ss}s`;
}
