// dashboard.mjs: drives pinpipe's dashboard in headless Chromium (Debian's /usr/bin/chromium)
// with playwright-core, for tests/integration/dashboard.sh. One page load for the whole run:
//   1. loads URL/, writes DIR/page-ready once the first poll rendered;
//   2. while the shell drives load: the log stage's record count must grow over polls (at least
//      twice) and a rate > 0 must show, with the page never reloaded -> DIR/live-ok;
//   3. waits for DIR/expect.json ({"insights": <pinpipe insights --format json>,
//      "runs": [<pp_dag_runs rows>], "log_records": N}) and then until the page shows exactly
//      those numbers: every insight table cell, every chart's data points, the DAG runs table
//      and the log stage's total; checks each chart canvas has pixels drawn;
//   4. saves a full-page screenshot to SHOT and prints its path.
// usage: node dashboard.mjs URL DIR SHOT        exit 0 ok, 1 failure (reason on stderr)
import { chromium } from 'playwright-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [url, dir, shot] = process.argv.slice(2);
if (!url || !dir || !shot) {
  console.error('usage: node dashboard.mjs URL DIR SHOT');
  process.exit(2);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fail = (msg) => { throw new Error(msg); };

async function waitFor(what, seconds, fn) {
  const end = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last === true) return;
    await sleep(250);
  }
  fail(`timed out after ${seconds} s waiting for ${what}${last && last !== true ? `: ${last}` : ''}`);
}

const browser = await chromium.launch({
  executablePath: process.env.PP_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let status = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  const offsite = [];
  page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:')) offsite.push(r.url()); });

  await page.goto(url + '/', { waitUntil: 'load' });
  await page.evaluate(() => { window.__ppMarker = 'same-page'; });
  await waitFor('the first poll', 30, () => page.evaluate(
    () => Number(document.body.dataset.polls) >= 1 && document.querySelector('[data-stage="log"]') !== null));
  writeFileSync(`${dir}/page-ready`, 'ok\n');
  console.log('page loaded');

  // 2. throughput updates without a reload while load flows
  const logRecords = () => page.evaluate(() => Number(document.querySelector('[data-stage="log"]').dataset.records));
  const seen = [await logRecords()];
  let rateSeen = false;
  await waitFor('the log stage to grow over polls (load flowing)', 90, async () => {
    const r = await logRecords();
    if (r > seen[seen.length - 1]) seen.push(r);
    rateSeen ||= await page.evaluate(() => [...document.querySelectorAll('[data-stage]')]
      .some((c) => Number(c.dataset.rate) > 0));
    return (seen.length >= 3 && rateSeen) || `records seen ${seen.join(' -> ')}, rate>0 ${rateSeen}`;
  });
  const chartRates = await page.evaluate(() => Chart.getChart('chart-throughput').data.datasets
    .flatMap((d) => d.data).filter((v) => v > 0).length);
  if (!chartRates) fail('the throughput chart has no point > 0 while load flowed');
  if (await page.evaluate(() => window.__ppMarker) !== 'same-page') fail('the page was reloaded');
  writeFileSync(`${dir}/live-ok`, 'ok\n');
  console.log(`live: log records ${seen.join(' -> ')} without reload`);

  // 3. the numbers pinpipe computes, on the page
  await waitFor(`${dir}/expect.json`, 240, () => existsSync(`${dir}/expect.json`) || 'not yet');
  const expect = JSON.parse(readFileSync(`${dir}/expect.json`, 'utf8'));
  const compare = async () => page.evaluate((exp) => {
    const bad = [];
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    for (const [name, rows] of Object.entries(exp.insights)) {
      const panel = document.querySelector(`[data-insight="${name}"]`);
      if (!panel) { bad.push(`${name}: no panel`); continue; }
      const heads = [...panel.querySelectorAll('table.data thead th')].map((th) => th.textContent);
      const trs = [...panel.querySelectorAll('table.data tbody tr')];
      if (trs.length !== rows.length) { bad.push(`${name}: ${trs.length} rows shown, want ${rows.length}`); continue; }
      if (rows.length && !same(heads, Object.keys(rows[0]))) bad.push(`${name}: columns ${heads}`);
      rows.forEach((row, i) => {
        const tds = [...trs[i].querySelectorAll('td')];
        Object.values(row).forEach((v, j) => {
          const td = tds[j];
          if (!td || !same(JSON.parse(td.dataset.v), v) || td.textContent !== (v === null ? 'null' : String(v)))
            bad.push(`${name}[${i}].${Object.keys(row)[j]}: page ${td && td.textContent}, want ${v}`);
        });
      });
      const canvas = panel.querySelector('canvas');
      if (!canvas) continue;
      const chart = Chart.getChart(canvas);
      if (!chart) { bad.push(`${name}: no chart`); continue; }
      const kind = panel.dataset.kind;
      if (kind === 'grouped') {
        for (const row of rows) {
          const ds = chart.data.datasets.find((d) => d.label === row.age_group);
          const x = chart.data.labels.indexOf(String(row.post_year));
          if (!ds || x < 0 || ds.data[x] !== row.median_follower_count)
            bad.push(`${name}: chart point ${row.age_group}/${row.post_year} is ${ds && ds.data[x]}, want ${row.median_follower_count}`);
        }
        const points = chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0);
        if (points !== rows.length) bad.push(`${name}: ${points} chart points, want ${rows.length}`);
      } else {
        const value = Object.keys(rows[0] || {}).pop();
        const data = chart.data.datasets[0] ? chart.data.datasets[0].data : [];
        if (!same(data, rows.map((r) => r[value]))) bad.push(`${name}: chart data ${data}, want ${rows.map((r) => r[value])}`);
        if (chart.data.labels.length !== rows.length) bad.push(`${name}: ${chart.data.labels.length} chart labels`);
      }
      // something drawn: opaque pixels on the canvas
      const ctx = canvas.getContext('2d');
      const img = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let opaque = 0;
      for (let k = 3; k < img.length; k += 4) if (img[k]) opaque++;
      if (rows.length && opaque < 200) bad.push(`${name}: chart canvas nearly empty (${opaque} px)`);
    }
    const runRows = [...document.querySelectorAll('#runs-table tbody tr')].map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((t) => t.textContent);
      return JSON.stringify([td[0], td[1], td[2], td[3], Number(td[4]), td[7]]);
    });
    for (const r of exp.runs) {
      const key = JSON.stringify([r.dag, r.run_date, r.task, r.state, r.attempts, r.error || '']);
      if (!runRows.includes(key)) bad.push(`DAG run not shown: ${key}`);
    }
    const log = document.querySelector('[data-stage="log"]');
    if (!log || Number(log.dataset.records) !== exp.log_records)
      bad.push(`log stage shows ${log && log.dataset.records} records, want ${exp.log_records}`);
    return bad;
  }, expect);
  let mismatches = [];
  await waitFor('the page to show pinpipe insights --format json', 60, async () => {
    mismatches = await compare();
    return mismatches.length === 0 || `${mismatches.length} mismatches, first: ${mismatches.slice(0, 3).join('; ')}`;
  });
  const cells = Object.values(expect.insights).reduce((n, rows) => n + rows.length, 0);
  console.log(`insights: ${cells} rows of 9 insights equal on the page (tables and charts); ` +
              `${expect.runs.length} DAG task runs shown`);
  if (await page.evaluate(() => window.__ppMarker) !== 'same-page') fail('the page was reloaded');
  if (offsite.length) fail(`the page fetched from elsewhere: ${offsite.join(' ')}`);
  if (errors.length) fail(`browser errors: ${errors.join('; ')}`);

  // 4. screenshot (data tables folded, as a visitor first sees the page)
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = false; }));
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
} catch (e) {
  console.error(`FAIL: ${e.message}`);
  status = 1;
} finally {
  await browser.close();
}
process.exit(status);
