// Inline SVG charts for the dashboard: no library, each chart is one string assigned to an <svg> with a fixed viewBox.
const W = 800;
const H = 260;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };
const PLOT_W = W - PAD.left - PAD.right;
const PLOT_H = H - PAD.top - PAD.bottom;

const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A round upper bound for an axis: 1, 2, 5 × 10^n at or above the largest value (at least 1). */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    if (value <= m * power) return m * power;
  }
  return 10 * power;
}

const y = (v, max) => PAD.top + PLOT_H * (1 - v / max);

function frame(max, format, xLabels) {
  let out = '';
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    const yy = y(v, max).toFixed(1);
    out += `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${yy}" y2="${yy}"/>`;
    out += `<text x="${PAD.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escape(format(v))}</text>`;
  }
  for (const { x, text, anchor } of xLabels) {
    out += `<text x="${x.toFixed(1)}" y="${H - 8}" text-anchor="${anchor ?? 'middle'}">${escape(text)}</text>`;
  }
  return out;
}

const empty = (text) => `<text class="empty-note" x="${W / 2}" y="${H / 2}" text-anchor="middle">${escape(text)}</text>`;

const weekday = (seconds) => new Date(seconds * 1000).toLocaleDateString([], { weekday: 'short', day: 'numeric' });
const count = (v) => (Math.round(v * 10) / 10).toString();

/** Time labels for a series of n buckets: first, middle and last. */
function timeLabels(start, step, n, format) {
  if (n === 0) return [];
  const at = (i) => PAD.left + (n === 1 ? PLOT_W / 2 : (i * PLOT_W) / (n - 1));
  const mid = Math.floor((n - 1) / 2);
  return [
    { x: at(0), text: format(start), anchor: 'start' },
    { x: at(mid), text: format(start + mid * step) },
    { x: at(n - 1), text: format(start + (n - 1) * step), anchor: 'end' },
  ];
}

/**
 * Lines over time: `series` is `{ start, step, lines: [{ cls, values }] }` with values per bucket (null = no sample,
 * which breaks the line).
 */
export function lines(svg, { start, step, lines: all }) {
  const n = all.length ? all[0].values.length : 0;
  const max = niceMax(Math.max(0, ...all.flatMap((l) => l.values.filter((v) => v != null))));
  const hasData = all.some((l) => l.values.some((v) => v != null));
  // Hours back from the newest bucket ("24 h ago … now") read better on a wall than clock times a day apart.
  const end = start + (n - 1) * step;
  const ago = (seconds) => (end - seconds < step ? 'now' : `${Math.round((end - seconds) / 3600)} h ago`);
  let out = frame(max, count, timeLabels(start, step, n, ago));
  if (!hasData) {
    svg.innerHTML = out + empty('no samples yet: the manager records one a minute');
    return;
  }
  const dx = n > 1 ? PLOT_W / (n - 1) : 0;
  for (const { cls, values } of all) {
    let d = '';
    values.forEach((v, i) => {
      if (v == null) return;
      const joined = i > 0 && values[i - 1] != null;
      const x = (PAD.left + i * dx).toFixed(1);
      const yy = y(v, max).toFixed(1);
      // A sample without neighbours is drawn as a short dash so that it shows.
      d += joined ? `L${x},${yy}` : `M${x},${yy}` + (values[i + 1] == null ? `h-3h6` : '');
    });
    out += `<path class="line ${cls}" d="${d}"/>`;
  }
  svg.innerHTML = out;
}

/** Bars per bucket: `{ start, step, values }`. */
export function bars(svg, { start, step, values }) {
  const n = values.length;
  const max = niceMax(Math.max(0, ...values));
  let out = frame(max, count, timeLabels(start, step, n, weekday));
  const slot = n ? PLOT_W / n : 0;
  const width = Math.max(1, slot * 0.8);
  let d = '';
  values.forEach((v, i) => {
    if (v > 0) {
      const top = y(v, max);
      d += `M${(PAD.left + i * slot + (slot - width) / 2).toFixed(1)},${top.toFixed(1)}h${width.toFixed(1)}V${y(0, max).toFixed(1)}h${(-width).toFixed(1)}Z`;
    }
  });
  out += d ? `<path class="bars" d="${d}"/>` : empty('no checkouts recorded yet');
  svg.innerHTML = out;
}

/** Per day, for clone and boot: a min–max bar and a dot at the average. `days` as in the data document. */
export function ranges(svg, days) {
  const n = days.length;
  const values = days.flatMap((d) => [d.clone, d.boot]).filter((s) => s.count > 0);
  const max = niceMax(Math.max(0, ...values.map((s) => s.max)));
  const slot = n ? PLOT_W / n : 0;
  const labels = days.map((d, i) => ({
    x: PAD.left + slot * (i + 0.5),
    text: weekday(Date.parse(d.date + 'T12:00:00Z') / 1000),
  }));
  let out = frame(max, (v) => `${count(v)} s`, labels);
  if (!values.length) {
    svg.innerHTML = out + empty('no clones or boots recorded yet');
    return;
  }
  days.forEach((d, i) => {
    [['clone', d.clone, -0.14], ['boot', d.boot, 0.14]].forEach(([cls, s, offset]) => {
      if (!s.count) return;
      const x = (PAD.left + slot * (i + 0.5 + offset)).toFixed(1);
      out += `<line class="range ${cls}" x1="${x}" x2="${x}" y1="${y(s.min, max).toFixed(1)}" y2="${y(s.max, max).toFixed(1)}"/>`;
      out += `<circle class="avg ${cls}" cx="${x}" cy="${y(s.average, max).toFixed(1)}" r="6"><title>${escape(`${d.date} ${cls}: average ${s.average} s, min ${s.min} s, max ${s.max} s, ${s.count} VMs`)}</title></circle>`;
    });
  });
  svg.innerHTML = out;
}
