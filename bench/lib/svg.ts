/**
 * A small hand-written SVG bar chart (no dependency): panels side by side, each with groups of
 * bars (one per series), the bar at the median over rounds and a whisker from min to max.
 */
import type { Spread } from './stats.js';

export interface Series {
  name: string;
  color: string;
  /** One per group; undefined leaves a gap. */
  values: Array<Spread | undefined>;
}

export interface Panel {
  title: string;
  unit: string;
  groups: string[];
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= v) return m * pow;
  return 10 * pow;
}

const label = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function barChart(title: string, subtitle: string, panels: Panel[]): string {
  const panelW = 300;
  const panelH = 300;
  const top = 70;
  const left = 50;
  const width = left + panels.length * (panelW + 40);
  const legend = Math.max(0, ...panels.map((p) => p.series.length)) * 16;
  const height = top + 20 + (panelH - 60) + 36 + legend + 4;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" role="img" aria-labelledby="title">`,
    `<title id="title">${esc(title)}</title>`,
    `<desc>${esc(subtitle)}</desc>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600">${esc(title)}</text>`,
    `<text x="16" y="44" fill="#555">${esc(subtitle)}</text>`,
  );
  panels.forEach((panel, pi) => {
    const x0 = left + pi * (panelW + 40);
    const y0 = top + 20;
    const plotH = panelH - 60;
    const all = panel.series.flatMap((s) => s.values.map((v) => (v ? Math.max(v.max, v.median) : 0)));
    const max = niceMax(Math.max(0, ...all.filter(Number.isFinite)));
    const y = (v: number) => y0 + plotH - (Math.min(v, max) / max) * plotH;
    out.push(
      `<text x="${x0}" y="${top + 6}" font-weight="600">${esc(panel.title)} (${esc(panel.unit)})</text>`,
    );
    for (let t = 0; t <= 4; t++) {
      const v = (max * t) / 4;
      out.push(
        `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
        `<text x="${x0 - 6}" y="${y(v) + 4}" text-anchor="end" fill="#777" font-size="10">${label(v)}</text>`,
      );
    }
    const groupW = panelW / panel.groups.length;
    const barW = Math.min(36, (groupW - 16) / panel.series.length);
    panel.groups.forEach((group, gi) => {
      const gx = x0 + gi * groupW + (groupW - barW * panel.series.length) / 2;
      panel.series.forEach((s, si) => {
        const v = s.values[gi];
        if (!v || !Number.isFinite(v.median)) return;
        const bx = gx + si * barW;
        out.push(
          `<rect x="${bx + 2}" y="${y(v.median)}" width="${barW - 4}" height="${y0 + plotH - y(v.median)}" fill="${s.color}"><title>${esc(`${s.name} ${group}: ${label(v.median)} ${panel.unit} (${label(v.min)}–${label(v.max)})`)}</title></rect>`,
        );
        if (v.values.length > 1) {
          const cx = bx + barW / 2;
          out.push(
            `<line x1="${cx}" x2="${cx}" y1="${y(v.min)}" y2="${y(v.max)}" stroke="#222"/>`,
            `<line x1="${cx - 4}" x2="${cx + 4}" y1="${y(v.min)}" y2="${y(v.min)}" stroke="#222"/>`,
            `<line x1="${cx - 4}" x2="${cx + 4}" y1="${y(v.max)}" y2="${y(v.max)}" stroke="#222"/>`,
          );
        }
        out.push(
          `<text x="${bx + barW / 2}" y="${y(v.median) - 4 - (v.values.length > 1 && v.max > v.median ? y(v.median) - y(v.max) : 0)}" text-anchor="middle" font-size="9" fill="#333">${label(v.median)}</text>`,
        );
      });
      out.push(
        `<text x="${x0 + gi * groupW + groupW / 2}" y="${y0 + plotH + 16}" text-anchor="middle">${esc(group)}</text>`,
      );
    });
    out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${y0 + plotH}" y2="${y0 + plotH}" stroke="#333"/>`);
    panel.series.forEach((s, si) => {
      const ly = y0 + plotH + 36 + si * 16;
      out.push(
        `<rect x="${x0}" y="${ly - 10}" width="12" height="12" fill="${s.color}"/>`,
        `<text x="${x0 + 18}" y="${ly}">${esc(s.name)}</text>`,
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
