// The journal view: every entry in a list that renders only the rows on screen, so that tens of
// thousands of entries open at once and a thousand new ones a second do not freeze the page.

const ROW = 26; // px, fixed: the list computes positions instead of measuring
const KEEP = 50000; // entries kept in the page; older ones fall out, as the journal's own ring

export class Journal {
  constructor({ list, spacer, count, filters, onPick, onGap }) {
    this.list = list;
    this.spacer = spacer;
    this.count = count;
    this.f = filters;
    this.onPick = onPick;
    this.onGap = onGap; // called with the last seq held before entries the stream skipped
    this.all = [];
    this.shown = [];
    this.pending = [];
    this.selected = 0;
    this.rows = new Map(); // seq -> element on screen
    this.scheduled = false;
    this.dropped = 0;
    list.addEventListener('scroll', () => this.schedule());
    list.addEventListener('click', (ev) => {
      const row = ev.target.closest('[data-seq]');
      if (row) this.pick(Number(row.dataset.seq));
    });
    list.addEventListener('keydown', (ev) => this.key(ev));
    for (const el of Object.values(filters)) {
      el.addEventListener('input', () => this.refilter());
      el.addEventListener('change', () => this.refilter());
    }
    new ResizeObserver(() => this.schedule()).observe(list);
  }

  // load replaces the entries (the first page load, a reset).
  load(entries) {
    this.all = entries.slice(-KEEP);
    // The rows are sized on the next frame: scrolling now would leave a long journal at its
    // oldest entries while "follow" is on.
    if (this.f.follow.checked) this.stickBottom = true;
    this.refilter();
  }

  // merge adds entries fetched to fill a gap, in order, each once.
  merge(entries) {
    const seen = new Set(this.all.map(e => e.seq));
    const add = entries.filter(e => !seen.has(e.seq));
    if (!add.length) return;
    this.all = this.all.concat(add).sort((a, b) => a.seq - b.seq).slice(-KEEP);
    this.refilter();
  }

  // add queues entries from the stream; they are shown on the next frame, all at once.
  add(e) {
    this.pending.push(e);
    this.schedule();
  }

  matches(e) {
    const f = this.f;
    if (f.app.value && e.app !== f.app.value) return false;
    if (f.user.value && !(e.user || '').includes(f.user.value.trim())) return false;
    if (f.kind.value && e.kind !== f.kind.value) return false;
    const v = f.verdict.value;
    if (v === 'errors' && !e.errors) return false;
    if (v && v !== 'errors' && verdictOf(e) !== v) return false;
    const t = f.text.value.trim().toLowerCase();
    if (t && !(e.summary || '').toLowerCase().includes(t) && String(e.seq) !== t) return false;
    return true;
  }

  refilter() {
    this.shown = this.all.filter(e => this.matches(e));
    this.rows.forEach(el => el.remove());
    this.rows.clear();
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; this.flush(); this.render(); });
  }

  flush() {
    if (!this.pending.length) return;
    const atBottom = this.f.follow.checked;
    let last = this.all.length ? this.all[this.all.length - 1].seq : 0;
    const held = last;
    let gap = false;
    for (const e of this.pending) {
      if (e.seq <= last) continue;
      // The stream drops entries for a reader that falls behind; the list fetches them.
      if (held && e.seq > last + 1) gap = true;
      last = e.seq;
      this.all.push(brief(e));
      if (this.matches(e)) this.shown.push(brief(e));
    }
    this.pending = [];
    if (gap && this.onGap) this.onGap(held);
    if (this.all.length) document.body.dataset.lastSeq = String(this.all[this.all.length - 1].seq);
    if (this.all.length > KEEP * 1.1) {
      const cut = this.all.length - KEEP;
      const oldest = this.all[cut].seq;
      this.all = this.all.slice(cut);
      let i = 0;
      while (i < this.shown.length && this.shown[i].seq < oldest) i++;
      if (i) {
        this.shown = this.shown.slice(i);
        this.rows.forEach(el => el.remove());
        this.rows.clear();
      }
    }
    if (atBottom) this.stickBottom = true;
  }

  render() {
    const n = this.shown.length;
    this.spacer.style.height = (n * ROW) + 'px';
    if (this.stickBottom) {
      this.list.scrollTop = this.list.scrollHeight;
      this.stickBottom = false;
    }
    const top = this.list.scrollTop;
    const h = this.list.clientHeight || 400;
    const from = Math.max(0, Math.floor(top / ROW) - 10);
    const to = Math.min(n, Math.ceil((top + h) / ROW) + 10);
    const keep = new Set();
    for (let i = from; i < to; i++) {
      const e = this.shown[i];
      keep.add(e.seq);
      let el = this.rows.get(e.seq);
      if (!el) {
        el = row(e);
        this.rows.set(e.seq, el);
        this.list.appendChild(el);
      }
      el.style.transform = `translateY(${i * ROW}px)`;
      el.classList.toggle('sel', e.seq === this.selected);
    }
    for (const [seq, el] of this.rows) {
      if (!keep.has(seq)) { el.remove(); this.rows.delete(seq); }
    }
    this.count.textContent = `${n} of ${this.all.length} entries` + (this.dropped ? ` (${this.dropped} older not held)` : '');
  }

  pick(seq) {
    this.selected = seq;
    this.render();
    this.onPick(seq);
  }

  key(ev) {
    const i = this.shown.findIndex(e => e.seq === this.selected);
    let j = i;
    // With nothing picked (or the pick filtered out), the arrows start from the rows on screen:
    // in a long journal that follows the newest entries, ArrowDown must not jump to the oldest.
    const first = Math.min(this.shown.length - 1, Math.ceil(this.list.scrollTop / ROW));
    const last = Math.max(0, Math.min(this.shown.length, Math.floor((this.list.scrollTop + this.list.clientHeight) / ROW)) - 1);
    if (ev.key === 'ArrowDown') j = i < 0 ? first : Math.min(this.shown.length - 1, i + 1);
    else if (ev.key === 'ArrowUp') j = i < 0 ? last : Math.max(0, i - 1);
    else if (ev.key === 'End') j = this.shown.length - 1;
    else if (ev.key === 'Home') j = 0;
    else if (ev.key === 'Enter' && i >= 0) { this.onPick(this.selected, true); return; }
    else return;
    ev.preventDefault();
    if (j < 0 || !this.shown[j]) return;
    this.selected = this.shown[j].seq;
    const y = j * ROW;
    if (y < this.list.scrollTop) this.list.scrollTop = y;
    else if (y + ROW > this.list.scrollTop + this.list.clientHeight) this.list.scrollTop = y + ROW - this.list.clientHeight;
    this.render();
    this.onPick(this.selected);
  }
}

// brief keeps what the list shows of an entry; the inspector fetches the whole one.
function brief(e) {
  if (!e.data) return e;
  return { seq: e.seq, time: e.time, kind: e.kind, app: e.app, user: e.user, summary: e.summary, errors: e.errors, verdict: verdictOf(e) };
}

export function verdictOf(e) {
  if (e.verdict !== undefined) return e.verdict;
  if (e.kind === 'push' && e.data) return e.data.outcome;
  if (e.kind === 'api' && e.data) return String(e.data.errcode);
  return '';
}

function row(e) {
  const el = document.createElement('div');
  el.className = 'jrow' + (e.errors ? ' bad' : '');
  el.dataset.seq = e.seq;
  const t = (e.time || '').slice(11, 19);
  el.innerHTML = '';
  const parts = [['seq', '#' + e.seq], ['t', t], ['k k-' + e.kind, e.kind], ['u', e.user || ''], ['s', e.summary]];
  for (const [cls, text] of parts) {
    const s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    el.appendChild(s);
  }
  el.title = e.summary;
  return el;
}
