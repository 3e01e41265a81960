// Tiny SVG chart helpers for the HTML report: a line chart with several series and a bar chart.
// Output is plain markup with no external references.

export interface Series {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
}

const W = 720;
const H = 240;
const PAD_L = 56;
const PAD_B = 28;
/** Room above the plot for the y-axis label and the legend, so neither covers data or tick labels. */
const PAD_T = 28;
const PAD_R = 12;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(v < 1 ? 2 : 1);
}

export function lineChart(title: string, yLabel: string, series: readonly Series[]): string {
  let xMax = 0;
  let yMax = 0;
  for (const s of series) {
    for (const [x, y] of s.points) {
      xMax = Math.max(xMax, x);
      yMax = Math.max(yMax, y);
    }
  }
  xMax = niceMax(xMax);
  yMax = niceMax(yMax);
  const px = (x: number): number => PAD_L + (x / xMax) * (W - PAD_L - PAD_R);
  const py = (y: number): number => H - PAD_B - (y / yMax) * (H - PAD_B - PAD_T);
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${PAD_L}" x2="${W - PAD_R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD_L - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(y)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const x = (xMax * i) / 5;
    parts.push(`<text x="${px(x).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="11">${fmt(x)}s</text>`);
  }
  parts.push(`<text x="4" y="12" font-size="11" fill="#555">${esc(yLabel)}</text>`);
  let legendX = PAD_L + 8;
  for (const s of series) {
    if (s.points.length > 0) {
      const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="1.8"/>`);
    }
    parts.push(`<rect x="${legendX}" y="3" width="10" height="10" fill="${esc(s.color)}"/>`);
    parts.push(`<text x="${legendX + 14}" y="12" font-size="11">${esc(s.name)}</text>`);
    legendX += 20 + s.name.length * 7;
  }
  parts.push('</svg>');
  return parts.join('');
}

export function barChart(title: string, bars: readonly { label: string; value: number }[]): string {
  const max = niceMax(bars.reduce((m, b) => Math.max(m, b.value), 0));
  const n = Math.max(1, bars.length);
  const bw = (W - PAD_L - PAD_R) / n;
  const py = (y: number): number => H - PAD_B - (y / max) * (H - PAD_B - PAD_T);
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`);
  for (let i = 0; i <= 4; i++) {
    const y = (max * i) / 4;
    parts.push(`<line x1="${PAD_L}" x2="${W - PAD_R}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD_L - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(y)}</text>`);
  }
  bars.forEach((b, i) => {
    const x = PAD_L + i * bw;
    const y = py(b.value);
    parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${(H - PAD_B - y).toFixed(1)}" fill="#4a7bd0"><title>${esc(b.label)}: ${b.value}</title></rect>`);
    if (n <= 30 || i % Math.ceil(n / 15) === 0) {
      parts.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="10">${esc(b.label)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('');
}
