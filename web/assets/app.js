// Clearbar dashboard: polls the gateway's /ui/api/ endpoints and draws what they say.
// Plain DOM and SVG, no dependencies; every value from the server is set as text, never
// parsed as HTML.
'use strict';

(() => {
  const POLL_MS = 2000;
  const LIST_MS = 5000;
  const KEY = 'clearbar-admin-key';
  const COLORS = ['#2f5bd3', '#e07b1f', '#15803d', '#b91c1c', '#7c3aed', '#0e7490', '#a16207', '#db2777', '#4b5563', '#65a30d'];
  // Series are told apart by their dashes too, not by colour alone.
  const DASHES = ['', '7 3', '2 3', '9 3 2 3', '4 4'];
  // UNCLASSIFIED names the requests that got no category (drift.Unclassified): drawn in a
  // neutral grey, apart from the categories' colours.
  const UNCLASSIFIED = '(unclassified)';
  const GREY = '#8a93a3';

  const $ = (sel) => document.querySelector(sel);

  // h builds an element: h('td', {class: 'num'}, 'text', child, ...). Strings become text.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  // Formatting.
  const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
  function fmtNum(n) {
    if (n === null || n === undefined) return '–';
    if (n >= 100) return fmtInt(n);
    if (n >= 10) return n.toFixed(1);
    return n.toFixed(2).replace(/\.?0+$/, '') || '0';
  }
  function fmtUSD(x) {
    if (x === null || x === undefined) return '–';
    if (x === 0) return '$0';
    if (x >= 1) return '$' + x.toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2});
    // Cents keep both digits ($0.10); smaller parts of a cent show when there are any.
    if (x >= 0.01) return '$' + x.toFixed(4).replace(/(\.\d\d\d*?)0+$/, '$1');
    if (x < 1e-6) return '<$0.000001';
    return '$' + String(Number(x.toPrecision(3)));
  }
  function fmtDur(sec) {
    if (sec === null || sec === undefined) return '–';
    if (sec === 0) return '0';
    if (sec < 0.001) return Math.round(sec * 1e6) + ' µs';
    if (sec < 1) return Math.round(sec * 1000) + ' ms';
    if (sec < 60) return sec.toFixed(sec < 10 ? 2 : 1) + ' s';
    return Math.floor(sec / 60) + ' min ' + Math.round(sec % 60) + ' s';
  }
  const fmtNs = (ns) => (ns ? fmtDur(ns / 1e9) : '–');
  // fmtPct shows a rate to a tenth of a percent, 0% and 100% only for those exactly: a rate
  // just short of them says so.
  function fmtPct(r) {
    if (r === null || r === undefined) return '–';
    if (r === 0 || r === 1) return r * 100 + '%';
    const t = (r * 100).toFixed(1);
    if (t === '100.0') return '>99.9%';
    if (t === '0.0') return '<0.1%';
    return t + '%';
  }
  // fmtSpan names a span of seconds: 30 s, 5 min, 1 h.
  function fmtSpan(sec) {
    if (sec % 3600 === 0) return sec / 3600 + ' h';
    if (sec % 60 === 0) return sec / 60 + ' min';
    return (Number.isInteger(sec) ? sec : fmtNum(sec)) + ' s';
  }
  const fmtTime = (t) => new Date(t).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'});
  const fmtTimeSec = (t) => new Date(t).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'});
  const fmtClock = (t) => new Date(t).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'});
  const fmtStamp = (t) => new Date(t).toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit'});

  // API access, with the admin key when one was given.
  class AuthError extends Error {}
  let adminKey = sessionStorage.getItem(KEY) || '';

  // api fetches path; signal, if given, aborts the request.
  async function api(path, signal) {
    const headers = adminKey ? {Authorization: 'Bearer ' + adminKey} : {};
    const r = await fetch(path, {headers, cache: 'no-store', signal});
    if (r.status === 401 || r.status === 403) {
      showAuth(r.status === 403 ? 'That key is not an admin key for this gateway.' : 'This gateway needs an admin key to show its dashboard.');
      throw new AuthError('admin key needed');
    }
    if (!r.ok) {
      let msg = r.status + ' ' + r.statusText;
      try { msg = (await r.json()).error.message; } catch (_) { /* keep the status */ }
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    return r;
  }
  const getJSON = async (path, signal) => (await api(path, signal)).json();

  function showAuth(message) {
    $('#auth-message').textContent = message;
    $('#auth').hidden = false;
    $('#auth-key').focus();
  }
  $('#auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    adminKey = $('#auth-key').value.trim();
    sessionStorage.setItem(KEY, adminKey);
    $('#auth').hidden = true;
    refreshNow();
  });

  function setStatus(text, cls) {
    const st = $('#status');
    st.textContent = text;
    st.className = 'status ' + (cls || '');
  }

  // Tabs.
  let tab = 'overview';
  function showTab(name) {
    tab = name;
    for (const b of document.querySelectorAll('.tabs button')) {
      const on = b.dataset.tab === name;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1; // one tab stop for the tab list; arrows move between tabs
    }
    for (const p of document.querySelectorAll('.tab-page')) p.hidden = p.id !== name;
    if (name === 'spec') loadSpec();
    if (name === 'explorer') loadList();
  }
  const tabButtons = [...document.querySelectorAll('.tabs button')];
  for (const b of tabButtons) {
    b.addEventListener('click', () => showTab(b.dataset.tab));
    b.addEventListener('keydown', (ev) => {
      const i = tabButtons.indexOf(b), n = tabButtons.length;
      const to = {ArrowRight: (i + 1) % n, ArrowLeft: (i + n - 1) % n, Home: 0, End: n - 1}[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      tabButtons[to].focus();
      showTab(tabButtons[to].dataset.tab);
    });
  }

  // Live figures.
  let lastLive = null;

  function setValue(sel, text, value, bad) {
    const e = $(sel);
    e.textContent = text;
    if (value !== undefined) e.dataset.value = String(value);
    e.classList.toggle('bad', !!bad);
  }

  function renderLive(live) {
    lastLive = live;
    setExplorer(!!live.explorer);
    $('#spec-name').textContent = live.spec.name;
    document.title = 'Clearbar · ' + live.spec.name;
    fillOptions($('#f-category'), live.spec.categories);
    fillOptions($('#f-model'), live.spec.models);
    const sum = live.summary;
    if (sum) {
      const rec = sum.total.recent;
      setValue('#stat-requests', fmtInt(sum.total.requests), sum.total.requests);
      setValue('#stat-cost', fmtUSD(sum.total.cost_usd), sum.total.cost_usd);
      // The totals are this process's; the charts cover earlier runs too.
      for (const e of document.querySelectorAll('.since-start')) e.textContent = 'since this gateway started, ' + fmtTime(Date.parse(sum.start));
      const perMin = rec.requests / recentMinutes(live);
      // Started within the span, the recent figures cover the time since.
      const since = Date.parse(live.recent_from) > Date.parse(rec.t) ? 'since ' + fmtTimeSec(live.recent_from) : 'last ' + sum.recent_minutes + ' min';
      for (const e of document.querySelectorAll('.sub.recent')) e.textContent = since;
      setValue('#stat-rate', fmtNum(perMin), perMin);
      setValue('#stat-p95', fmtDur(rec.p95_s));
      setValue('#stat-pass', fmtPct(rec.pass_rate));
      setValue('#stat-escalation', fmtPct(rec.escalation_rate));
      setValue('#stat-fallback', fmtPct(rec.fallback_rate));
      renderFigures(sum, recentMinutes(live));
    }
    renderTimeScale(live.time_scales);
    const open = live.breakers.filter((b) => b.state !== 'closed').length;
    setValue('#stat-breakers', String(open), open, open > 0);
    const firing = live.drift.enabled ? live.drift.firing.length : null;
    setValue('#stat-alerts', firing === null ? 'off' : String(firing), firing || 0, firing > 0);
    renderAlerts(live.drift);
    renderBreakers(live.breakers, live.breaker_window_s);
  }

  // recentMinutes is the time the recent figures cover, in minutes: their span (the last 5
  // minutes), or less since the gateway started or the first data restored before it. Per-minute
  // rates divide by it, not by the span they will have.
  function recentMinutes(live) {
    const sum = live.summary;
    const from = Date.parse(live.recent_from);
    const covered = (Date.parse(sum.time) - from) / 60000;
    if (!(covered > 0)) return Number.isNaN(from) ? sum.recent_minutes : 1 / 60;
    return Math.min(sum.recent_minutes, Math.max(covered, 1 / 60)); // at least a second
  }

  // renderTimeScale says when simulated providers run at a time scale: the latencies shown
  // are then scaled wall-clock ones, not the simulated ones the spec assumes.
  function renderTimeScale(scales) {
    const e = $('#time-scale');
    const entries = Object.entries(scales || {});
    e.hidden = !entries.length;
    if (!entries.length) return;
    const values = [...new Set(entries.map(([, v]) => v))];
    const which = values.length === 1 ? 'at time scale ' + values[0]
      : 'at time scales ' + entries.map(([p, v]) => p + ' ' + v).join(', ');
    e.textContent = 'Simulated providers run ' + which + ' (serve --time-scale): the latencies here are scaled ' +
      'wall-clock times, not the simulated ones the spec assumes; divide them by the scale for those. ' +
      'clearbar review and outcomes report the simulated ones.';
  }

  function fillOptions(select, names) {
    const have = new Set([...select.options].map((o) => o.value));
    for (const n of names || []) if (!have.has(n)) select.append(h('option', {value: n}, n));
  }

  function renderFigures(sum, minutes) {
    const by = $('#group').value;
    $('#figures-by').textContent = by;
    const rows = by === 'model' ? sum.models : sum.categories;
    const t = $('#figures');
    t.replaceChildren(
      h('thead', {}, h('tr', {},
        h('th', {}, by), h('th', {class: 'num'}, 'requests'), h('th', {class: 'num'}, 'cost'),
        h('th', {class: 'num'}, 'req/min'), h('th', {class: 'num'}, 'p50'), h('th', {class: 'num'}, 'p95'),
        h('th', {class: 'num'}, 'pass'), h('th', {class: 'num'}, 'escalations'), h('th', {class: 'num'}, 'fallbacks'),
        h('th', {class: 'num', title: 'requests that failed, of those routed'}, 'errors'),
        h('th', {class: 'num', title: 'requests refused as the client\'s error (4xx: malformed, unknown model), counted apart'}, 'client errors'))),
      h('tbody', {}, (rows || []).map((f) => h('tr', {},
        h('td', {}, dot(colorOf(f.name)), f.name),
        h('td', {class: 'num'}, fmtInt(f.requests)), h('td', {class: 'num'}, fmtUSD(f.cost_usd)),
        h('td', {class: 'num'}, fmtNum(f.recent.requests / minutes)),
        h('td', {class: 'num'}, fmtDur(f.recent.p50_s)), h('td', {class: 'num'}, fmtDur(f.recent.p95_s)),
        h('td', {class: 'num'}, fmtPct(f.recent.pass_rate)), h('td', {class: 'num'}, fmtPct(f.recent.escalation_rate)),
        h('td', {class: 'num'}, fmtPct(f.recent.fallback_rate)), h('td', {class: 'num'}, fmtPct(f.recent.error_rate)),
        h('td', {class: 'num'}, by === 'model' ? '' : fmtPct(f.recent.client_error_rate)))),
      by === 'model' ? null : unclassifiedRow(sum, minutes))
    );
  }

  // unclassifiedRow is the requests in the total that no category holds: those refused before
  // they got a category, as client errors (4xx), or given up by the client. They are the total
  // of /ui/api/live less its categories; with them the rows add up to the Requests figure.
  function unclassifiedRow(sum, minutes) {
    const cats = sum.categories || [];
    const less = (get) => Math.max(0, cats.reduce((n, c) => n - get(c), get(sum.total)));
    const requests = less((f) => f.requests);
    const recent = less((f) => f.recent.requests);
    if (!requests && !recent) return null;
    const clientErrors = less((f) => f.recent.client_errors || 0);
    const cost = Math.round(less((f) => f.cost_usd) * 1e9) / 1e9; // without the sums' float noise
    return h('tr', {class: 'unclassified', title: 'Requests that got no category: refused before routing as client errors ' +
        '(4xx: malformed requests, unknown models, keys and rate limits), or given up by the client. ' +
        'They count in the Requests total and in client_errors of /ui/api/live, in no category.'},
      h('td', {}, dot(GREY), UNCLASSIFIED + ' · no category'),
      h('td', {class: 'num'}, fmtInt(requests)), h('td', {class: 'num'}, fmtUSD(cost)),
      h('td', {class: 'num'}, fmtNum(recent / minutes)),
      h('td', {class: 'num'}, '–'), h('td', {class: 'num'}, '–'), h('td', {class: 'num'}, '–'), h('td', {class: 'num'}, '–'),
      h('td', {class: 'num'}, '–'), h('td', {class: 'num'}, '–'),
      h('td', {class: 'num'}, recent ? fmtPct(clientErrors / recent) : '–'));
  }

  // Series colours follow the spec's order, so a category keeps its colour across views.
  function colorOf(name) {
    if (name === UNCLASSIFIED) return GREY;
    const i = indexOf(name);
    return COLORS[i % COLORS.length];
  }
  function dashOf(name) {
    if (name === UNCLASSIFIED) return '1 3';
    return DASHES[indexOf(name) % DASHES.length];
  }
  function indexOf(name) {
    const names = lastLive ? ($('#group').value === 'model' ? lastLive.spec.models : lastLive.spec.categories) : [];
    const i = names.indexOf(name);
    return i < 0 ? names.length : i;
  }
  // swatch is a legend's sample of a series' line: its colour and its dashes.
  function swatch(name) {
    const dash = dashOf(name);
    const line = s('line', {x1: 1, x2: 21, y1: 5, y2: 5, stroke: colorOf(name), 'stroke-width': 2.2});
    if (dash) line.setAttribute('stroke-dasharray', dash);
    return s('svg', {class: 'swatch', viewBox: '0 0 22 10', 'aria-hidden': 'true'}, line);
  }
  function dot(color) {
    const e = h('i', {class: 'dot'});
    e.style.background = color;
    return e;
  }

  function renderAlerts(drift) {
    $('#drift-settings').textContent = drift.enabled
      ? `Window ${fmtInt(drift.window)} against the ${fmtInt(drift.reference)} before it and the spec's assumptions; ` +
        `false alarms at most ${drift.false_alarm} per window. Detectors: ` +
        Object.entries(drift.states).map(([k, v]) => `${v} ${k}`).join(', ') + '.'
      : 'Drift detection is off.';
    const list = $('#alerts');
    if (!drift.alerts.length) {
      list.replaceChildren(h('li', {class: 'none'}, drift.enabled ? 'No alerts: nothing has drifted.' : 'No alerts.'));
      return;
    }
    list.replaceChildren(...drift.alerts.slice(0, 30).map((a) => {
      const resolved = !!a.resolved_at;
      return h('li', {class: resolved ? 'resolved' : 'firing'},
        h('div', {}, h('span', {class: 'pill ' + (resolved ? 'resolved' : 'firing')}, resolved ? 'resolved' : 'firing'), ' ',
          h('span', {class: 'what'}, a.category + (a.model ? ' / ' + a.model : '') + ' · ' + a.detector.replace(/_/g, ' ') + ' vs ' + a.against)),
        h('div', {}, a.message),
        h('div', {class: 'when'}, fmtStamp(a.time) + (resolved ? ' — resolved ' + fmtStamp(a.resolved_at) : '') + ' · ' + a.id),
        a.resolved_why ? h('div', {class: 'when'}, a.resolved_why) : null);
    }));
  }

  function renderBreakers(breakers, windowS) {
    const t = $('#breakers');
    // The breakers count calls in their rolling window only: not every call to the model.
    const win = windowS > 0 ? 'the last ' + fmtSpan(windowS) : 'the breaker\'s rolling window';
    const head = h('thead', {}, h('tr', {}, h('th', {}, 'provider/model'), h('th', {}, 'state'),
      h('th', {class: 'num', title: 'Calls counted in ' + win + ' (the breaker\'s rolling window: successes and failures), not all calls to the model'}, 'calls in window'),
      h('th', {class: 'num', title: 'Failures among the calls in ' + win}, 'failures in window'),
      h('th', {}, 'last failure'), h('th', {}, 'reopens')));
    if (!breakers.length) {
      t.replaceChildren(head, h('tbody', {}, h('tr', {}, h('td', {colspan: 6, class: 'empty'}, 'No calls yet.'))));
      return;
    }
    t.replaceChildren(head, h('tbody', {}, breakers.map((b) => h('tr', {},
      h('td', {}, b.key), h('td', {}, h('span', {class: 'pill ' + b.state}, b.state.replace('_', ' '))),
      h('td', {class: 'num'}, fmtInt(b.requests)), h('td', {class: 'num'}, fmtInt(b.failures)),
      h('td', {}, b.last_failure_class ? b.last_failure_class + ' at ' + fmtTime(b.last_failure_at) : '–'),
      h('td', {}, b.reopens_at ? reopens(b) : '–')))));
  }

  // reopens says when an open breaker lets a probe through: to the second when its cooldown
  // is under a minute, where minutes alone would name the minute it opened in.
  function reopens(b) {
    const cooldown = b.opened_at ? Date.parse(b.reopens_at) - Date.parse(b.opened_at) : NaN;
    return cooldown < 60000 ? fmtTimeSec(b.reopens_at) : fmtTime(b.reopens_at);
  }

  // Charts.
  const METRICS = [
    // m is the minutes the point covers: the step, or less for the current bucket.
    {title: 'Requests per minute', fmt: fmtNum, value: (p, m) => p.requests / m},
    {title: 'Cost per minute', fmt: fmtUSD, value: (p, m) => p.cost_usd / m},
    {title: 'Latency p50', fmt: fmtDur, value: (p) => p.p50_s},
    {title: 'Latency p95', fmt: fmtDur, value: (p) => p.p95_s},
    // Pass rates sit near 100%: their axis starts at the tenth below the lowest value.
    {title: 'Pass rate', fmt: fmtPct, value: (p) => p.pass_rate, zoom: true},
    {title: 'Escalation rate', fmt: fmtPct, value: (p) => p.escalation_rate},
    {title: 'Fallback rate', fmt: fmtPct, value: (p) => p.fallback_rate},
  ];

  function renderCharts(data) {
    const series = data.series;
    const legend = $('#legend');
    legend.replaceChildren(...series.map((sr) => h('span', {}, swatch(sr.name), sr.name)));
    const charts = $('#charts');
    charts.dataset.range = data.range;
    charts.dataset.by = data.by;
    charts.replaceChildren(...METRICS.map((m) => chart(m, series, data)));
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const f of [1, 2, 2.5, 5, 10]) if (v <= f * p) return f * p;
    return 10 * p;
  }

  // chart draws one metric of the series. Their points are buckets of data.step_s aligned to
  // the clock, each at its start; the last is the current one, with data up to data.until
  // (the end of the current minute), so its per-minute figures are over the minutes it has
  // had so far.
  function chart(metric, series, data) {
    const W = 520, H = 190, L = 58, R = 10, T = 10, B = 22;
    const box = h('div', {class: 'chart'}, h('h3', {}, metric.title));
    const svg = s('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': metric.title});
    box.append(svg);
    const n = series.length ? series[0].points.length : 0;
    const stepMs = data.step_s * 1000;
    const until = data.until ? Date.parse(data.until) : NaN;
    const starts = n ? series[0].points.map((p) => Date.parse(p.t)) : [];
    // ends[i] is where bucket i's data ends: its end, or until for the current bucket.
    const ends = starts.map((t) => (until > t ? Math.min(t + stepMs, until) : t + stepMs));
    const minutes = starts.map((t, i) => Math.max(1, Math.round((ends[i] - t) / 60000)));
    const values = series.map((sr) => sr.points.map((p, i) => {
      const v = metric.value(p, minutes[i]);
      return v === null || v === undefined || Number.isNaN(v) ? null : v;
    }));
    const all = values.flat().filter((v) => v !== null);
    if (!n || !all.length) {
      svg.append(s('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty'}, 'no traffic in this range'));
      return box;
    }
    let lo = 0, hi = niceMax(Math.max(...all));
    if (metric.zoom) {
      hi = 1;
      lo = Math.min(Math.floor(Math.min(...all) * 10) / 10, 0.9);
    }
    const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo || 1));
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      svg.append(s('line', {x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'gridline'}));
      svg.append(s('text', {x: L - 6, y: y(v) + 3, 'text-anchor': 'end', class: 'axis'}, metric.fmt(v)));
    }
    // The axis names buckets by their starts; the tooltip gives a bucket's span.
    for (const i of [0, Math.floor((n - 1) / 2), n - 1]) {
      svg.append(s('text', {x: x(i), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle', class: 'axis'}, fmtTime(starts[i])));
    }
    const span = (i) => {
      if (stepMs <= 60000) return fmtTime(starts[i]);
      const partial = ends[i] < starts[i] + stepMs;
      return fmtTime(starts[i]) + '–' + fmtTime(starts[i] + stepMs) + (partial ? ' (so far: ' + minutes[i] + ' min)' : '');
    };
    values.forEach((vs, si) => {
      const name = series[si].name;
      const color = colorOf(name);
      let d = '';
      vs.forEach((v, i) => {
        if (v === null) return;
        const joined = i > 0 && vs[i - 1] !== null;
        d += (joined ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1);
        const lone = !joined && (i === n - 1 || vs[i + 1] === null);
        if (lone) svg.append(s('circle', {cx: x(i), cy: y(v), r: 2.5, fill: color}, s('title', {}, name)));
      });
      if (!d) return;
      const path = s('path', {d, fill: 'none', stroke: color, 'stroke-width': 1.8, 'stroke-linejoin': 'round', 'data-series': name}, s('title', {}, name));
      const dash = dashOf(name);
      if (dash) path.setAttribute('stroke-dasharray', dash);
      svg.append(path);
    });
    // Hover: a guide line and the values at the nearest step.
    const guide = s('line', {y1: T, y2: H - B, class: 'hover', visibility: 'hidden'});
    svg.append(guide);
    const tip = $('#tooltip');
    svg.addEventListener('mousemove', (ev) => {
      const r = svg.getBoundingClientRect();
      const px = ((ev.clientX - r.left) / r.width) * W;
      const i = Math.max(0, Math.min(n - 1, Math.round(((px - L) / (W - L - R)) * (n - 1))));
      guide.setAttribute('x1', x(i));
      guide.setAttribute('x2', x(i));
      guide.setAttribute('visibility', 'visible');
      tip.replaceChildren(h('div', {}, metric.title + ' · ' + span(i)),
        ...series.map((sr, si) => h('div', {}, swatch(sr.name), ' ' + sr.name + ': ' + metric.fmt(values[si][i]))));
      tip.hidden = false;
      tip.style.left = ev.clientX + 14 + 'px';
      tip.style.top = ev.clientY + 10 + 'px';
    });
    svg.addEventListener('mouseleave', () => {
      guide.setAttribute('visibility', 'hidden');
      tip.hidden = true;
    });
    return box;
  }

  // Polling: one loop, paused while the tab is hidden. Each call of pollLive starts a new
  // round and ends the one before: it aborts that round's requests, and only the latest
  // round draws and arms the timer for the next. So changing the selectors while a request
  // is in flight neither starts a second loop nor lets a late answer for the old selection
  // draw over the new one.
  let liveTimer = null;
  let liveRound = 0;
  let liveAbort = null;
  function stopLive() {
    liveRound++;
    clearTimeout(liveTimer);
    liveTimer = null;
    if (liveAbort) liveAbort.abort();
    liveAbort = null;
  }
  async function pollLive() {
    stopLive();
    const round = liveRound;
    const current = () => round === liveRound;
    const next = () => {
      if (current() && !document.hidden) liveTimer = setTimeout(pollLive, POLL_MS);
    };
    if (!$('#auth').hidden) { // waiting for a key
      next();
      return;
    }
    const abort = new AbortController();
    liveAbort = abort;
    try {
      const live = await getJSON('/ui/api/live', abort.signal);
      if (!current()) return;
      renderLive(live);
      if (tab === 'overview') {
        const q = new URLSearchParams({by: $('#group').value, range: $('#range').value});
        const series = await getJSON('/ui/api/series?' + q, abort.signal);
        if (!current()) return;
        renderCharts(series);
      }
      setStatus('live · updated ' + new Date().toLocaleTimeString(), 'live');
    } catch (err) {
      if (!current()) return; // superseded: its requests were aborted
      if (!(err instanceof AuthError)) setStatus('cannot reach the gateway: ' + err.message, 'error');
    }
    if (liveAbort === abort) liveAbort = null;
    next();
  }

  function refreshNow() {
    pollLive();
    if (tab === 'explorer') loadList();
    if (tab === 'spec') loadSpec(true);
  }
  $('#group').addEventListener('change', pollLive);
  $('#range').addEventListener('change', pollLive);
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) stopLive();
    else pollLive();
  });

  // The routing document, rendered by the server, shown in a sandboxed frame: its sandbox
  // lets no script run in it (no allow-scripts), but keeps it same-origin, so this script can
  // reach into it. Its links lead to its own sections (href="#cat-…"); a srcdoc document
  // resolves them against the dashboard's address, so followed they would load the
  // dashboard into the frame. Instead, this script, listening in the frame's document,
  // scrolls the frame to the section; the frame runs nothing of its own.
  const specFrame = $('#spec-frame');
  specFrame.addEventListener('load', () => {
    const doc = specFrame.contentDocument;
    if (doc) doc.addEventListener('click', followInFrame);
  });
  function followInFrame(ev) {
    const a = ev.target && ev.target.closest ? ev.target.closest('a[href]') : null;
    const href = a ? a.getAttribute('href') : '';
    if (!href.startsWith('#') || ev.defaultPrevented || ev.button !== 0) return;
    ev.preventDefault();
    const doc = a.ownerDocument, win = doc.defaultView;
    let id = href.slice(1);
    try { id = decodeURIComponent(id); } catch (_) { /* keep it as written */ }
    const target = id ? doc.getElementById(id) : doc.documentElement;
    // Scroll the frame only: scrollIntoView would scroll the dashboard too.
    if (target && win) win.scrollTo({top: target.getBoundingClientRect().top + win.scrollY});
  }
  let specLoaded = false;
  async function loadSpec(force) {
    if (specLoaded && !force) return;
    try {
      specFrame.srcdoc = await (await api('/ui/api/spec')).text();
      specLoaded = true;
    } catch (err) {
      if (!(err instanceof AuthError)) specFrame.srcdoc = '<p>The routing document could not be loaded.</p>';
    }
  }

  // Decision explorer. It needs the gateway's decision store: explorer is null until the
  // live figures say whether there is one (a decision asked for before waits in pending),
  // then true or false. Without one (trace: none) the tab says so and asks for nothing.
  let explorer = null;
  let pending = '';
  let listTimer = null;
  let listRound = 0;
  let lookupRound = 0;
  let selected = '';

  function setExplorer(on) {
    if (explorer === on) return;
    explorer = on;
    for (const e of document.querySelectorAll('#explorer input, #explorer select, #explorer button')) e.disabled = !on;
    $('button[data-tab="explorer"]').title = on ? '' : 'Decision records are not stored (trace: none)';
    if (!on) {
      clearTimeout(listTimer);
      listRound++;
      lookupRound++;
      pending = '';
      selected = '';
      $('#decision-id').value = '';
      $('#decisions').replaceChildren(h('tbody', {}, h('tr', {}, h('td', {class: 'empty'}, 'No decisions to list.'))));
      $('#decision').replaceChildren(h('p', {class: 'not-found'},
        'Decision records are not stored: this gateway runs with trace: none. Start it with a decision store ' +
        '(clearbar serve --trace FILE, or server.trace in the spec) to find and list decisions here.'));
      return;
    }
    if (tab === 'explorer') loadList();
    if (pending) {
      const id = pending;
      pending = '';
      showDecision(id);
    }
  }

  // loadList lists recent decisions, and again every LIST_MS while refresh is on. Each call
  // supersedes the one before: only the latest draws and arms the timer.
  async function loadList() {
    clearTimeout(listTimer);
    listTimer = null;
    const round = ++listRound;
    if (tab !== 'explorer' || !explorer) return;
    const q = new URLSearchParams({limit: '100'});
    for (const [param, sel] of [['category', '#f-category'], ['model', '#f-model'], ['outcome', '#f-outcome']]) {
      if ($(sel).value) q.set(param, $(sel).value);
    }
    if ($('#f-flagged').checked) q.set('flagged', 'true');
    const t = $('#decisions');
    const head = h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'id'), h('th', {}, 'category'), h('th', {}, 'model'),
      h('th', {}, 'outcome'), h('th', {class: 'num'}, 'cost'), h('th', {class: 'num'}, 'latency')));
    try {
      const {decisions} = await getJSON('/ui/api/decisions?' + q);
      if (round !== listRound) return;
      // A row opens its decision when clicked; its id is a button, for the keyboard. The
      // list is redrawn every few seconds: the button that had the focus gets it back.
      const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest('#decisions tr[data-id]') : null;
      const rows = decisions.map((d) => h('tr', {class: d.id === selected ? 'selected' : '', dataset: {id: d.id}, onclick: () => showDecision(d.id),
        title: fmtStamp(d.time) + ' · ' + d.attempts + ' call(s)' + (d.route ? ' · ' + d.route : '')},
        h('td', {}, fmtClock(d.time)), h('td', {class: 'mono'}, h('button', {type: 'button', class: 'open', 'aria-label': 'Open decision ' + d.id}, d.id)),
        h('td', {}, d.category || '–'), h('td', {}, d.model || '–'),
        h('td', {}, outcomePill(d.outcome, d.flagged)), h('td', {class: 'num'}, fmtUSD(d.cost_usd)), h('td', {class: 'num'}, fmtDur(d.latency_s))));
      t.replaceChildren(head, h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'No decisions match.'))));
      if (focused) {
        const again = rows.find((tr) => tr.dataset.id === focused.dataset.id);
        if (again) again.querySelector('button.open').focus();
      }
    } catch (err) {
      if (err instanceof AuthError || round !== listRound) return;
      t.replaceChildren(head, h('tbody', {}, h('tr', {}, h('td', {colspan: 7, class: 'empty'}, err.message))));
    }
    if ($('#f-auto').checked) listTimer = setTimeout(loadList, LIST_MS);
  }
  for (const sel of ['#f-category', '#f-model', '#f-outcome', '#f-flagged', '#f-auto']) $(sel).addEventListener('change', loadList);

  function outcomePill(outcome, flagged) {
    if (flagged) return h('span', {class: 'pill flagged'}, outcome + ' · flagged');
    return h('span', {class: 'pill ' + (outcome === 'ok' ? 'ok' : 'fail')}, outcome);
  }

  $('#find-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('#decision-id').value.trim();
    if (id) showDecision(id);
  });

  // showDecision looks a decision up and shows it; a later lookup replaces an earlier one
  // still waiting for its answer.
  async function showDecision(id) {
    if (explorer === false) return; // the explorer says why not
    selected = id;
    $('#decision-id').value = id;
    history.replaceState(null, '', '#decision=' + encodeURIComponent(id));
    for (const tr of document.querySelectorAll('#decisions tbody tr')) tr.classList.toggle('selected', tr.dataset.id === id);
    const box = $('#decision');
    box.replaceChildren(h('p', {class: 'muted'}, 'Looking up ' + id + '…'));
    const round = ++lookupRound;
    if (explorer === null) { // until the live figures say whether decisions are stored
      pending = id;
      return;
    }
    try {
      const d = await getJSON('/ui/api/decisions/' + encodeURIComponent(id));
      if (round === lookupRound) renderDecision(d);
    } catch (err) {
      if (!(err instanceof AuthError) && round === lookupRound) box.replaceChildren(h('p', {class: 'not-found'}, err.message));
    }
  }

  function row(label, ...value) {
    const v = value.flat().filter((x) => x !== undefined && x !== null && x !== '');
    return v.length ? [h('dt', {}, label), h('dd', {}, v)] : [];
  }

  // embeddingText describes a learned router's embeddings call: used or why not, and its time.
  function embeddingText(e) {
    if (!e) return '';
    const took = e.latency_ns ? ' in ' + fmtNs(e.latency_ns) : '';
    return e.model + (e.used ? ': used' + took : ': not used' + took + (e.error ? ' (' + e.error + ')' : ''));
  }

  function renderDecision(d) {
    const u = d.usage || {};
    const dl = h('dl', {},
      row('Time', fmtStamp(d.time)),
      row('Category', d.category, d.category_by ? ' — by ' + d.category_by : ''),
      row('Route', d.route, d.arm ? ' (arm ' + d.arm + ')' : ''),
      row('Plan', (d.plan || []).join(' → ')),
      row('Outcome', outcomePill(d.outcome, d.flagged), ' ', d.reason),
      row('Flag', d.flag_reason),
      row('Answered by', d.model ? d.model + ' on ' + d.provider : ''),
      row('HTTP status', d.status),
      row('Cost', fmtUSD(d.cost_usd), d.escalation_cost_usd || d.escalation_latency_ns
        ? ' (' + fmtUSD(d.escalation_cost_usd || 0) + ' and ' + fmtNs(d.escalation_latency_ns || 0) + ' on discarded answers)' : ''),
      row('Latency', fmtNs(d.latency_ns), ' — upstream ' + fmtNs(d.upstream_ns) + ', gateway ' + fmtNs(d.overhead_ns) + ', first byte ' + fmtNs(d.ttfb_ns)),
      row('Tokens', u.prompt_tokens || u.completion_tokens ? fmtInt(u.prompt_tokens) + ' in, ' + fmtInt(u.completion_tokens) + ' out' : ''),
      row('Requested', d.requested_model, d.stream ? ' (stream)' : '', ' via ', d.dialect, ' ', d.path),
      row('Client', d.client, d.tier ? ' (' + d.tier + ')' : ''),
      row('Prompt', d.prompt_hash ? 'hash ' + d.prompt_hash + ', ' + fmtInt(d.prompt_chars) + ' chars' : ''),
      row('Answer', d.answer_chars ? fmtInt(d.answer_chars) + ' chars' : ''),
      row('Template', d.template_hash));
    const parts = [h('h3', {}, d.id), dl];
    if (d.score) {
      parts.push(h('h4', {}, 'Score'), h('dl', {},
        row('Router', d.score.router), row('Rule', d.score.rule),
        row('Difficulty', d.score.difficulty != null ? d.score.difficulty.toFixed(3) : ''),
        row('P(pass)', (d.score.p_pass || []).map((m) => m.model + ' ' + m.p.toFixed(3) +
          (d.score.willingness_to_pay ? ' (cost $' + m.cost_usd.toPrecision(4) + ', utility ' + m.utility.toFixed(4) + ')' : '')).join(', ')),
        row('Willingness to pay', d.score.willingness_to_pay ? '$' + d.score.willingness_to_pay + ' per unit of P(pass): the highest utility, P(pass) − cost ÷ it, starts' : ''),
        row('Starts on', d.score.start),
        row('Embedding', embeddingText(d.score.embedding))));
    }
    if (d.rules && d.rules.length) {
      parts.push(h('h4', {}, 'Rules'), h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, h('th', {}, 'category'), h('th', {}, 'rule'), h('th', {class: 'num'}, 'priority'), h('th', {}, 'fired'))),
        h('tbody', {}, d.rules.map((r) => h('tr', {}, h('td', {}, r.category), h('td', {class: 'wrap mono'}, r.rule),
          h('td', {class: 'num'}, r.priority), h('td', {}, r.error ? 'error: ' + r.error : r.fired ? 'yes' : 'no'))))));
    }
    if (d.skipped && d.skipped.length) {
      parts.push(h('h4', {}, 'Skipped'), h('ul', {}, d.skipped.map((sk) => h('li', {}, sk.model + ': ' + sk.reason))));
    }
    // Each attempt is a row; its validators' verdicts, when it has any, a row under it.
    const attempts = (d.attempts || []).flatMap((a) => {
      const main = h('tr', {},
        h('td', {class: 'num'}, a.n), h('td', {}, a.kind, a.step ? h('div', {class: 'muted'}, 'step ' + a.step) : ''),
        h('td', {}, a.model, h('div', {class: 'muted'}, a.provider + (a.upstream_model ? ' · ' + a.upstream_model : ''))),
        h('td', {class: 'num'}, fmtNs(a.latency_ns), a.waited_ns ? h('div', {class: 'muted'}, 'waited ' + fmtNs(a.waited_ns)) : ''),
        h('td', {class: 'num'}, a.usage ? fmtInt(a.usage.prompt_tokens) + ' / ' + fmtInt(a.usage.completion_tokens) : '–'),
        h('td', {class: 'num'}, fmtUSD(a.cost_usd)),
        h('td', {class: 'wrap'}, h('span', {class: 'pill ' + (a.class === 'ok' ? 'ok' : 'fail')}, a.class),
          a.status ? ' ' + a.status : '', ' ', a.outcome, a.error ? h('div', {class: 'muted'}, a.error) : ''));
      if (!(a.verdicts || []).length) return [main];
      main.classList.add('joined');
      return [main, h('tr', {class: 'verdict-row'}, h('td'), h('td', {colspan: 6, class: 'wrap'},
        h('ul', {class: 'verdicts'}, a.verdicts.map((v) => h('li', {class: v.pass ? (v.not_applicable ? 'not-applicable' : 'pass') : v.unverified ? 'unverified' : 'fail'},
          v.validator, v.score ? ' (score ' + v.score.toFixed(2) + ')' : '', v.reason ? ' — ' + v.reason : '')))))];
    });
    parts.push(h('h4', {}, 'Attempts'), h('div', {class: 'table-wrap'}, h('table', {class: 'grid', id: 'attempts'},
      h('thead', {}, h('tr', {}, h('th', {class: 'num'}, '#'), h('th', {}, 'kind'), h('th', {}, 'model'), h('th', {class: 'num'}, 'latency'),
        h('th', {class: 'num'}, 'tokens'), h('th', {class: 'num'}, 'cost'), h('th', {}, 'result'))),
      h('tbody', {}, attempts))));
    parts.push(h('details', {}, h('summary', {}, 'Raw record'), h('pre', {}, JSON.stringify(d, null, 2))));
    $('#decision').replaceChildren(...parts);
  }

  // Start: open the decision named in the address (#decision=ID), if any.
  const m = /^#decision=(.+)$/.exec(location.hash);
  if (m) {
    let id = m[1];
    try { id = decodeURIComponent(id); } catch (_) { /* malformed escapes: keep it as written */ }
    showTab('explorer');
    showDecision(id);
  }
  pollLive();
})();
