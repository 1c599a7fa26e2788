// The phone: the chat as the person on the phone sees it, and forms for every message and event.

import { h } from './dom.js';

// Kinds of the event form: the fields each needs, with the demo values wxemu fills in too.
export const KINDS = [
  { id: 'subscribe', label: 'Follow (subscribe)', oa: true, msg: { MsgType: 'event', Event: 'subscribe' }, fields: [] },
  { id: 'unsubscribe', label: 'Unfollow (unsubscribe)', oa: true, msg: { MsgType: 'event', Event: 'unsubscribe' }, fields: [] },
  { id: 'CLICK', label: 'Menu CLICK', oa: true, msg: { MsgType: 'event', Event: 'CLICK' }, fields: [['EventKey', 'Menu key', 'wxemu_click']] },
  { id: 'VIEW', label: 'Menu VIEW', oa: true, msg: { MsgType: 'event', Event: 'VIEW' }, fields: [['EventKey', 'URL (key)', 'https://example.com/']] },
  { id: 'SCAN', label: 'QR scan (SCAN)', oa: true, msg: { MsgType: 'event', Event: 'SCAN' }, fields: [['EventKey', 'Scene', 'wxemu_scene'], ['Ticket', 'Ticket', 'gQwxemu_demo_ticket']] },
  { id: 'LOCATION', label: 'Location report (LOCATION)', oa: true, msg: { MsgType: 'event', Event: 'LOCATION' }, fields: [['Latitude', 'Latitude', '23.137466'], ['Longitude', 'Longitude', '113.352425'], ['Precision', 'Precision', '119.385040']] },
  { id: 'location', label: 'Location message', oa: true, mp: false, msg: { MsgType: 'location' }, fields: [['Location_X', 'Latitude', '23.134521'], ['Location_Y', 'Longitude', '113.358803'], ['Scale', 'Scale', '20'], ['Label', 'Label', '位置信息']] },
  { id: 'image', label: 'Image', oa: true, mp: true, msg: { MsgType: 'image' }, fields: [['PicUrl', 'Picture URL', 'http://mmbiz.qpic.cn/mmbiz_jpg/wxemu-demo/0'], ['MediaId', 'Media id', 'wxemu_demo_image_media_id']] },
  { id: 'voice', label: 'Voice', oa: true, msg: { MsgType: 'voice' }, fields: [['MediaId', 'Media id', 'wxemu_demo_voice_media_id'], ['Format', 'Format', 'amr']] },
  { id: 'video', label: 'Video', oa: true, msg: { MsgType: 'video' }, fields: [['MediaId', 'Media id', 'wxemu_demo_video_media_id'], ['ThumbMediaId', 'Thumb media id', 'wxemu_demo_thumb_media_id']] },
  { id: 'link', label: 'Link', oa: true, msg: { MsgType: 'link' }, fields: [['Title', 'Title', 'wxemu'], ['Description', 'Description', 'a link from the user'], ['Url', 'URL', 'https://example.com/']] },
  { id: 'miniprogrampage', label: 'Mini Program card', mp: true, msg: { MsgType: 'miniprogrampage' }, fields: [['Title', 'Title', 'wxemu demo page'], ['AppId', 'AppId', 'wx7a6b5c4d3e2f1a09'], ['PagePath', 'Page path', 'pages/index/index'], ['ThumbUrl', 'Thumb URL', ''], ['ThumbMediaId', 'Thumb media id', '']] },
  { id: 'user_enter_tempsession', label: 'Enter the chat (user_enter_tempsession)', mp: true, msg: { MsgType: 'event', Event: 'user_enter_tempsession' }, fields: [['SessionFrom', 'Session from', 'wxemu']] },
];

export function kindsFor(appKind) {
  return KINDS.filter(k => (appKind === 'mp' ? k.mp : k.oa));
}

export function renderFields(box, kind) {
  box.replaceChildren(...kind.fields.map(([name, label, value]) =>
    h('label', {}, label, ' ', h('input', { 'data-field': name, value, 'aria-label': label, autocomplete: 'off' }))));
}

export function messageOf(kind, box) {
  const m = { ...kind.msg };
  for (const input of box.querySelectorAll('[data-field]')) m[input.dataset.field] = input.value;
  return m;
}

const mediaRe = /^\[(image|voice|video|mpnews) ([^\]\s]+)\](.*)$/;

// renderLine is one transcript line as the phone shows it.
// media holds the ids of the media files wxemu keeps, whose bytes the phone can show.
export const media = new Set();

export function renderLine(l) {
  const who = l.from;
  if (l.kind === 'fault') {
    // A fault rule acted: the person on the phone sees nothing of it; the console says so.
    return h('div', { class: 'sys fault', 'data-journal': l.journal || undefined }, `fault injected (not shown to the user): ${l.text}`);
  }
  if (l.kind === 'system') {
    return h('div', { class: 'sys' + (l.kf_account ? ' handover' : ' failure') }, l.text);
  }
  if (l.kind === 'event') {
    return h('div', { class: 'evt' }, `· ${(l.text || l.msgtype || 'event').replace(/^\(|\)$/g, '')} ·`);
  }
  const mine = who === 'user';
  const cls = 'bubble ' + (mine ? 'me' : who === 'agent' ? 'agent' : 'bot');
  const tag = who === 'agent' ? `客服 ${l.kf_account || ''}`.trim() : who === 'bot' && l.kind === 'custom' ? '客服消息' : '';
  const body = content(l);
  const wrap = h('div', { class: 'line ' + (mine ? 'right' : 'left') },
    tag ? h('div', { class: 'who' }, tag) : '',
    h('div', { class: cls, 'data-journal': l.journal || undefined }, body));
  return wrap;
}

function content(l) {
  const t = l.text || '';
  const m = t.match(mediaRe);
  if (m && m[1] === 'image' && media.has(m[2])) {
    return h('figure', { class: 'media' }, h('img', { src: '/_emu/v1/media/' + encodeURIComponent(m[2]), alt: 'image ' + m[2], loading: 'lazy' }), h('figcaption', {}, '图片 ' + m[2]));
  }
  if (m) return h('div', { class: 'card' }, h('strong', {}, { image: '[图片]', voice: '[语音]', video: '[视频]', mpnews: '[图文]' }[m[1]] || m[1]), ' ', m[2], m[3]);
  if (t.startsWith('[news] ')) {
    const titles = t.slice(7).split(' | ');
    return h('div', { class: 'card news' }, ...titles.map((x, i) => h(i ? 'div' : 'strong', { class: i ? 'sub' : '' }, x)));
  }
  if (t.startsWith('[music]')) return h('div', { class: 'card' }, h('strong', {}, '[音乐]'), ' ', t.slice(7));
  if (t.startsWith('[miniprogrampage]')) return h('div', { class: 'card mp' }, h('div', { class: 'sub' }, '小程序'), h('strong', {}, t.slice(17).trim()));
  if (t.startsWith('[location]')) return h('div', { class: 'card' }, h('strong', {}, '[位置]'), ' ', t.slice(10));
  if (t.startsWith('[link]')) return h('div', { class: 'card' }, h('strong', {}, '[链接]'), ' ', t.slice(6));
  if (t.startsWith('[msgmenu]') || t.includes('\n')) return h('div', { class: 'text' }, t);
  return h('div', { class: 'text' }, t);
}
