// The chart page: every chart of bench/lib/charts.ts on one self-contained HTML page (inline CSS and SVG, no
// scripts, no fonts or images fetched), headed by the run's command/date/machine lines. Each chart sits in a
// <figure id="chart-<id>"> sized to its SVG, which is what bench/lib/charts-png.ts screenshots.
import { esc } from '../../loadtest/src/report/svg.js';
import { renderChartSvg, type ChartSpec } from './charts.js';

/** The provenance lines of a table.md header (Command, Date, Machine, Runs), without Markdown line breaks. */
export function parseTableHeader(md: string): string[] {
  return md
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => /^(Command|Date|Machine|Runs):/.test(l));
}

/** Escapes the text and turns `code` spans (as in table.md's header) into <code>. */
function inline(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

export function chartElementId(spec: ChartSpec): string {
  return `chart-${spec.id}`;
}

/**
 * `header`: the table.md lines (any order); the Date and Machine lines are repeated under every chart so that
 * a PNG taken alone still says where its numbers come from.
 */
export function renderChartsHtml(charts: readonly ChartSpec[], header: readonly string[]): string {
  const caption = header.filter((l) => /^(Date|Machine):/.test(l)).map((l) => l.replace(/`/g, ''));
  const figures = charts.map(
    (c) =>
      `<figure class="chart" id="${esc(chartElementId(c))}">\n${renderChartSvg(c)}\n` +
      (caption.length > 0 ? `<figcaption>${caption.map((l) => esc(l)).join('<br>')}</figcaption>\n` : '') +
      '</figure>',
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<title>Gyre benchmark charts</title>',
    '<style>',
    "body { font-family: 'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif; margin: 24px; color: #111; background: #f4f4f5; }",
    'h1 { font-size: 22px; margin: 0 0 8px; }',
    '.header { font-size: 13px; color: #333; line-height: 1.6; margin-bottom: 16px; }',
    'code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #e8e8ea; padding: 1px 4px; }',
    'figure.chart { width: min-content; margin: 0 0 20px; padding: 8px; background: #fff; border: 1px solid #ddd; }',
    'figure.chart svg { display: block; }',
    'figcaption { font-size: 11px; color: #666; padding: 2px 24px 6px; line-height: 1.5; }',
    '</style></head><body>',
    '<h1>Gyre vs Centrifugo v6 vs Socket.IO 4 vs bare ws</h1>',
    `<div class="header">${header.length > 0 ? header.map((l) => inline(l)).join('<br>') : 'No run header available (records.json only).'}</div>`,
    ...(figures.length > 0 ? figures : ['<p>No chartable workload in these records.</p>']),
    '</body></html>',
    '',
  ].join('\n');
}
