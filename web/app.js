/* app.js: the dashboard's behaviour: polls /api/stats, /api/insights and /api/runs every 2 s
 * and updates the cards, charts (Chart.js) and tables in place, without a reload.
 *
 * For tests and curious users, every number shown is also in the DOM as data: each insight
 * panel ([data-insight=NAME]) has a table.data whose <th> are the insight's column names and
 * whose <td data-v> hold the JSON value of each cell; each stage card ([data-stage=NAME]) has
 * data-records, data-rate and data-lag; <body data-polls> counts completed polls. */
'use strict';

const POLL_MS = 2000;
const HISTORY = 90; /* points on the throughput/lag charts: 3 minutes */
const PALETTE = ['#c8102e', '#1f77b4', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf',
                 '#e377c2', '#7f7f7f', '#bcbd22'];

/* The nine insights (PRODUCT.md order) and how each is drawn. label/value name row columns;
 * a function label joins several. */
const INSIGHTS = [
  { name: 'popular_category_by_country', title: 'Most popular category by country',
    kind: 'table' },
  { name: 'popular_category_by_year', title: 'Most popular category by year (posts)',
    kind: 'bar', label: (r) => `${r.post_year} · ${r.category}`, value: 'category_count' },
  { name: 'top_user_by_country', title: 'Top user by country (followers)', kind: 'table' },
  { name: 'top_country_by_followers', title: 'Country with the most-followed user',
    kind: 'table' },
  { name: 'popular_category_by_age_group', title: 'Most popular category by age group',
    kind: 'bar', label: (r) => `${r.age_group} · ${r.category}`, value: 'category_count' },
  { name: 'median_followers_by_age_group', title: 'Median followers by age group',
    kind: 'bar', label: (r) => r.age_group, value: 'median_follower_count' },
  { name: 'users_joined_by_year', title: 'Users joined by year', kind: 'bar',
    label: (r) => String(r.post_year), value: 'number_users_joined' },
  { name: 'median_followers_by_join_year', title: 'Median followers by join year',
    kind: 'line', label: (r) => String(r.post_year), value: 'median_follower_count' },
  { name: 'median_followers_by_age_group_and_join_year',
    title: 'Median followers by age group and join year', kind: 'grouped',
    x: 'post_year', series: 'age_group', value: 'median_follower_count' },
];

const charts = {};       /* canvas id -> Chart */
const history = { t: [], rate: {}, lag: {} };
let lastInsightsText = null;
let lastRunsText = null;
let polls = 0;

const $ = (sel, root = document) => root.querySelector(sel);
const fmt = (v) => (v === null || v === undefined ? '—'
  : typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(v));

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function getJSON(url) {
  const res = await fetch(url, { cache: 'no-cache' });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch (e) { throw new Error(`${url}: bad JSON (${res.status})`); }
  if (!res.ok) throw new Error(body.error || `${url}: HTTP ${res.status}`);
  return { body, text };
}

/* ---- charts ------------------------------------------------------------------------------ */

function makeChart(canvas, type, extra = {}) {
  const chart = new Chart(canvas, {
    type,
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { display: type !== 'bar' || !!extra.legend, position: 'bottom',
                           labels: { boxWidth: 12 } } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      ...extra.options,
    },
  });
  charts[canvas.id] = chart;
  return chart;
}

function setChart(chart, labels, datasets) {
  chart.data.labels = labels;
  chart.data.datasets = datasets.map((d, i) => ({
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: PALETTE[i % PALETTE.length] + (chart.config.type === 'line' ? '33' : 'cc'),
    borderWidth: chart.config.type === 'line' ? 2 : 0,
    pointRadius: chart.config.type === 'line' ? 2 : undefined,
    spanGaps: true,
    ...d,
  }));
  chart.update('none');
}

/* ---- pipeline: stages, throughput and lag ------------------------------------------------ */

function renderStages(stats) {
  const box = $('#stages');
  for (const s of stats.stages) {
    let card = box.querySelector(`[data-stage="${CSS.escape(s.stage)}"]`);
    if (!card) {
      card = el('div', { class: 'card', 'data-stage': s.stage });
      card.append(el('div', { class: 'name' }, s.stage), el('div', { class: 'rate' }),
                  el('div', { class: 'detail' }));
    }
    box.append(card); /* (re)placed in the server's stage order */
    card.dataset.records = s.records;
    card.dataset.rate = s.rate === null ? '' : s.rate;
    card.dataset.lag = s.lag === undefined ? '' : s.lag;
    card.dataset.lagging = s.lag > 0 ? '1' : '0';
    const rate = $('.rate', card);
    rate.textContent = s.rate === null ? '…' : fmt(s.rate);
    rate.append(el('small', {}, ' rec/s'));
    const d = $('.detail', card);
    d.replaceChildren('total ', el('b', {}, fmt(s.records)));
    if (s.lag !== undefined) d.append(' · lag ', el('b', { class: 'lag' }, fmt(s.lag)));
    if (s.rejected !== undefined)
      d.append(' · rejected ', el('b', {}, fmt(s.rejected)), ' · failed ', el('b', {}, fmt(s.failed)));
  }
}

function renderHistory(stats) {
  const t = new Date(stats.ts_ms).toLocaleTimeString('en-GB');
  history.t.push(t);
  const names = stats.stages.map((s) => s.stage);
  for (const s of stats.stages) {
    (history.rate[s.stage] ||= new Array(history.t.length - 1).fill(null)).push(s.rate);
    if (s.lag !== undefined)
      (history.lag[s.stage] ||= new Array(history.t.length - 1).fill(null)).push(s.lag);
  }
  for (const series of [history.rate, history.lag])
    for (const [k, arr] of Object.entries(series)) {
      if (!names.includes(k)) arr.push(null);
      while (arr.length > HISTORY) arr.shift();
    }
  while (history.t.length > HISTORY) history.t.shift();
  const ds = (series) => Object.entries(series).map(([label, data]) => ({ label, data: [...data] }));
  setChart(charts['chart-throughput'], [...history.t], ds(history.rate));
  setChart(charts['chart-lag'], [...history.t], ds(history.lag));
}

function renderLagTable(stats) {
  const rows = stats.lag.map((r) => {
    const tr = el('tr', { 'data-group': r.group, 'data-topic': r.topic });
    for (const v of [r.group, r.topic, r.partition, r.committed, r.lag])
      tr.append(el('td', { class: typeof v === 'number' ? 'num' : '' }, String(v)));
    return tr;
  });
  $('#lag-table tbody').replaceChildren(...rows);
}

/* ---- insights ---------------------------------------------------------------------------- */

function buildInsightPanels() {
  const box = $('#insight-panels');
  for (const ins of INSIGHTS) {
    const panel = el('article', { class: 'panel', 'data-insight': ins.name, 'data-kind': ins.kind });
    panel.append(el('h3', {}, ins.title));
    const table = el('table', { class: 'data' });
    table.append(el('thead'), el('tbody'));
    if (ins.kind === 'table') {
      const wrap = el('div', { class: 'scroll' });
      wrap.append(table);
      panel.append(wrap);
    } else {
      const cbox = el('div', { class: 'chart-box' });
      const canvas = el('canvas', { id: `chart-${ins.name}` });
      cbox.append(canvas);
      const details = el('details');
      details.append(el('summary', {}, 'data'), table);
      panel.append(cbox, details);
      const type = ins.kind === 'grouped' ? 'bar' : ins.kind;
      makeChart(canvas, type, { legend: ins.kind === 'grouped' });
    }
    box.append(panel);
  }
}

function fillTable(table, rows) {
  const cols = rows.length ? Object.keys(rows[0]) : [];
  const head = el('tr');
  for (const c of cols) head.append(el('th', {}, c));
  $('thead', table).replaceChildren(head);
  $('tbody', table).replaceChildren(...rows.map((r) => {
    const tr = el('tr');
    for (const c of cols) {
      const v = r[c];
      const td = el('td', { 'data-v': JSON.stringify(v),
                            class: v === null ? 'null' : typeof v === 'number' ? 'num' : '' },
                    v === null ? 'null' : String(v));
      tr.append(td);
    }
    return tr;
  }));
}

function renderInsight(ins, rows) {
  const panel = $(`[data-insight="${ins.name}"]`);
  fillTable($('table.data', panel), rows);
  panel.dataset.rows = rows.length;
  const chart = charts[`chart-${ins.name}`];
  if (chart) chart.options.plugins.legend.display = ins.kind === 'grouped';
  if (chart && ins.kind === 'grouped') {
    const xs = [...new Set(rows.map((r) => String(r[ins.x])))].sort();
    const series = [...new Set(rows.map((r) => r[ins.series]))]; /* rows come in age order */
    setChart(chart, xs, series.map((s) => ({
      label: s,
      data: xs.map((x) => {
        const r = rows.find((q) => q[ins.series] === s && String(q[ins.x]) === x);
        return r ? r[ins.value] : null;
      }),
    })));
  } else if (chart) {
    setChart(chart, rows.map(ins.label), [{ label: ins.value, data: rows.map((r) => r[ins.value]) }]);
  }
  panel.dataset.rendered = '1';
}

function renderInsights(data, text) {
  const r = data.rows || {};
  $('#rows').textContent = `warehouse rows: pin ${fmt(r.pin)}, geo ${fmt(r.geo)}, user ${fmt(r.user)}`;
  if (text === lastInsightsText) return;
  lastInsightsText = text;
  for (const ins of INSIGHTS) renderInsight(ins, data.insights[ins.name] || []);
  document.body.dataset.insights = JSON.stringify(Object.keys(data.insights));
}

/* ---- DAG runs ---------------------------------------------------------------------------- */

function renderRuns(data, text) {
  if (text === lastRunsText) return;
  lastRunsText = text;
  const when = (ms) => (ms ? new Date(ms).toLocaleString('en-GB') : '—');
  const took = (t) => (t.start_ms && t.end_ms ? `${((t.end_ms - t.start_ms) / 1000).toFixed(1)} s` : '—');
  $('#runs-table tbody').replaceChildren(...data.runs.map((t) => {
    const tr = el('tr', { 'data-dag': t.dag, 'data-run-date': t.run_date, 'data-task': t.task,
                          'data-state': t.state });
    const state = el('td');
    state.append(el('span', { class: 'state', 'data-state': t.state }, t.state));
    tr.append(el('td', {}, t.dag), el('td', {}, t.run_date), el('td', {}, t.task), state,
              el('td', { class: 'num' }, String(t.attempts)), el('td', {}, when(t.start_ms)),
              el('td', { class: 'num' }, took(t)), el('td', { class: 'err' }, t.error || ''));
    return tr;
  }));
  $('#runs-empty').hidden = data.runs.length > 0;
}

/* ---- polling ----------------------------------------------------------------------------- */

function showError(sel, err) {
  const p = $(sel);
  p.hidden = !err;
  p.textContent = err ? String(err.message || err) : '';
}

async function poll() {
  const [stats, insights, runs] = await Promise.allSettled(
    [getJSON('/api/stats'), getJSON('/api/insights'), getJSON('/api/runs')]);
  const status = $('#status');
  if (stats.status === 'fulfilled') {
    renderStages(stats.value.body);
    renderHistory(stats.value.body);
    renderLagTable(stats.value.body);
    status.dataset.state = 'live';
    status.textContent = 'live';
    $('#updated').textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
  } else {
    status.dataset.state = 'down';
    status.textContent = `server unreachable: ${stats.reason.message} (retrying)`;
  }
  if (insights.status === 'fulfilled') {
    renderInsights(insights.value.body, insights.value.text);
    showError('#insights-error', null);
  } else {
    showError('#insights-error', insights.reason);
  }
  if (runs.status === 'fulfilled') {
    renderRuns(runs.value.body, runs.value.text);
    showError('#runs-error', null);
  } else {
    showError('#runs-error', runs.reason);
  }
  document.body.dataset.polls = ++polls;
}

async function loop() {
  try { await poll(); } catch (e) { console.error(e); }
  setTimeout(loop, POLL_MS);
}

function start() {
  if (typeof Chart === 'undefined') {
    showError('#insights-error', 'the charting library did not load');
    return;
  }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  makeChart($('#chart-throughput'), 'line');
  makeChart($('#chart-lag'), 'line');
  buildInsightPanels();
  loop();
}

start();
