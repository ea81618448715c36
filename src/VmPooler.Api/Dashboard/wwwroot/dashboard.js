// The vmpooler dashboard: polls one aggregated JSON document and updates the page in place.
import { bars, lines, ranges } from './charts.js';

const params = new URLSearchParams(location.search);
const refreshSeconds = Math.min(300, Math.max(1, Number(params.get('refresh')) || 5));
const HISTORY_EVERY_MS = 60_000;

const byId = (id) => document.getElementById(id);
const poolsEl = byId('pools');
const cards = new Map();

// Timings of the last refresh, for people and for the browser tests (which report them).
const stats = { refreshes: 0, fetchMs: 0, renderMs: 0, historyMs: 0, firstRenderMs: null, firstFetchMs: null, firstDomMs: null };
window.vmpoolerDashboard = stats;

let lastHistory = -Infinity;

/** Sets text only when it changed (no layout work for unchanged numbers). */
function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}

function setAttr(el, name, value) {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

const seconds = (s) => (s ? `${s.toFixed(s < 10 ? 1 : 0)} s` : '–');

function age(now, then) {
  if (!then) return '–';
  const s = Math.max(0, (Date.parse(now) - Date.parse(then)) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function level(pool) {
  if (pool.size === 0) return 'idle';
  if (pool.ready === 0) return 'empty';
  return pool.ready / pool.size < 0.5 ? 'low' : 'ok';
}

function createCard(name) {
  const root = document.createElement('article');
  root.className = 'pool';
  root.dataset.pool = name;
  root.innerHTML = `
    <h2></h2>
    <div class="count"><span class="ready"></span><span class="size"></span></div>
    <div class="bar"><div class="bar-fill"></div></div>
    <dl>
      <dt>pending</dt><dd class="pending"></dd>
      <dt>running</dt><dd class="running"></dd>
      <dt>last boot</dt><dd class="lastboot"></dd>
    </dl>`;
  const q = (s) => root.querySelector(s);
  q('h2').textContent = name;
  q('h2').title = name;
  return { root, ready: q('.ready'), size: q('.size'), fill: q('.bar-fill'), pending: q('.pending'), running: q('.running'), lastBoot: q('.lastboot') };
}

function renderPools(data) {
  const seen = new Set();
  let previous = null;
  for (const pool of data.pools) {
    seen.add(pool.name);
    let card = cards.get(pool.name);
    if (!card) {
      card = createCard(pool.name);
      cards.set(pool.name, card);
      // Keep the configured order: insert after the previous pool's card.
      poolsEl.insertBefore(card.root, previous ? previous.root.nextSibling : poolsEl.firstChild);
    }
    previous = card;
    setText(card.ready, pool.ready);
    setText(card.size, ` / ${pool.size}`);
    setText(card.pending, pool.pending);
    setText(card.running, pool.running);
    setText(card.lastBoot, age(data.now, pool.lastBoot));
    setAttr(card.root, 'data-level', level(pool));
    setAttr(card.root, 'data-ready', pool.ready);
    const fill = pool.size > 0 ? Math.min(1, pool.ready / pool.size) : 0;
    card.fill.style.setProperty('--fill', fill.toFixed(3));
  }
  for (const [name, card] of cards) {
    if (!seen.has(name)) {
      card.root.remove();
      cards.delete(name);
    }
  }
}

function renderTotals(data) {
  const t = data.totals;
  setText(byId('t-ready'), t.ready);
  setText(byId('t-size'), t.size);
  byId('t-bar').style.setProperty('--fill', (t.size > 0 ? Math.min(1, t.ready / t.size) : 0).toFixed(3));
  setText(byId('t-pending'), t.pending);
  setText(byId('t-running'), t.running);
  setText(byId('t-checkouts'), data.checkouts.today);
  setText(byId('t-checkouts-hour'), data.checkouts.lastHour);
  for (const kind of ['clone', 'boot']) {
    const s = data[kind];
    setText(byId(`t-${kind}`), seconds(s.average));
    setText(byId(`t-${kind}-range`), s.count ? `min ${seconds(s.min)} · max ${seconds(s.max)} · ${s.count} VMs` : 'none yet today');
  }
  setText(byId('site'), data.site);
}

function renderHistory(history) {
  const m = history.minutes;
  lines(byId('chart-day'), {
    start: m.start,
    step: m.step,
    lines: [
      { cls: 'running', values: m.running },
      { cls: 'pending', values: m.pending },
      { cls: 'ready', values: m.ready },
    ],
  });
  bars(byId('chart-checkouts'), { start: history.hours.start, step: history.hours.step, values: history.hours.checkouts });
  ranges(byId('chart-times'), history.days);
}

const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : null);

/** The banner naming each provider whose circuit breaker is open (or half-open, probing); hidden when none is. */
function renderProvidersDown(down) {
  const banner = byId('providers-down');
  const list = down || [];
  const key = JSON.stringify(list);
  if (banner.dataset.key === key) return;
  banner.dataset.key = key;
  banner.replaceChildren(...list.map((p) => {
    const line = document.createElement('p');
    line.dataset.provider = p.name;
    const name = document.createElement('span');
    name.className = 'provider';
    name.textContent = `Provider ${p.name} is down`;
    const since = clock(p.since);
    const retry = clock(p.retryAt);
    const state = p.state === 'half-open' ? 'circuit breaker half-open, probing' : 'circuit breaker open';
    const parts = [state + (since ? ` since ${since}` : ''), retry && p.state !== 'half-open' ? `next probe ${retry}` : null,
      p.pools && p.pools.length ? `pools: ${p.pools.join(', ')}` : null].filter(Boolean);
    line.append(name, ` (${parts.join('; ')})`);
    if (p.lastError) {
      const detail = document.createElement('span');
      detail.className = 'detail';
      detail.textContent = ` — ${p.lastError}`;
      line.append(detail);
    }
    return line;
  }));
  banner.hidden = list.length === 0;
}

function setStatus(ok, text) {
  setAttr(byId('status-dot'), 'class', ok ? 'dot ok' : 'dot error');
  setText(byId('updated'), text);
}

async function refresh() {
  const wantHistory = performance.now() - lastHistory >= HISTORY_EVERY_MS;
  const started = performance.now();
  try {
    const response = await fetch(wantHistory ? 'data?history=1' : 'data', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    const fetched = performance.now();
    renderTotals(data);
    renderProvidersDown(data.providersDown);
    renderPools(data);
    const rendered = performance.now();
    if (data.history) {
      renderHistory(data.history);
      lastHistory = performance.now();
      stats.historyMs = lastHistory - rendered;
    }
    stats.fetchMs = fetched - started;
    stats.renderMs = rendered - fetched;
    if (stats.firstRenderMs === null) {
      stats.firstRenderMs = performance.now();
      stats.firstFetchMs = stats.fetchMs;
      stats.firstDomMs = stats.renderMs + stats.historyMs;
    }
    stats.refreshes++;
    document.body.dataset.refreshes = String(stats.refreshes);
    setStatus(true, `updated ${new Date(data.now).toLocaleTimeString()}`);
  } catch (error) {
    setStatus(false, `not updated: ${error.message}`);
  } finally {
    setTimeout(refresh, refreshSeconds * 1000);
  }
}

refresh();
