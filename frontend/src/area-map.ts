// The request's area over the home's position, drawn in the browser as an SVG: no map tiles,
// no network. An equirectangular projection around the home is exact enough at street scale.
import { svg, type SVGTemplateResult } from "lit";
import type { Area } from "./api";

const SIZE = 200;
const M_PER_DEG = 111_320;

export function areaMap(area: Area, home: { latitude: number; longitude: number }, label: string): SVGTemplateResult {
  const cosLat = Math.cos((home.latitude * Math.PI) / 180) || 1;
  // Metres east/north of the home.
  const project = (lat: number, lon: number): [number, number] => [
    (lon - home.longitude) * M_PER_DEG * cosLat,
    (lat - home.latitude) * M_PER_DEG,
  ];
  const xs: number[] = [0];
  const ys: number[] = [0];
  let shape: (toX: (x: number) => number, toY: (y: number) => number, scale: number) => SVGTemplateResult;
  if (area.kind === "circle") {
    const [cx, cy] = project(area.lat, area.lon);
    xs.push(cx - area.radius_m, cx + area.radius_m);
    ys.push(cy - area.radius_m, cy + area.radius_m);
    shape = (toX, toY, scale) =>
      svg`<circle class="area" cx=${toX(cx)} cy=${toY(cy)} r=${Math.max(area.radius_m * scale, 2)}></circle>`;
  } else {
    const points = area.points.map(([lat, lon]) => project(lat, lon));
    for (const [x, y] of points) {
      xs.push(x);
      ys.push(y);
    }
    shape = (toX, toY) =>
      svg`<polygon class="area" points=${points.map(([x, y]) => `${toX(x).toFixed(1)},${toY(y).toFixed(1)}`).join(" ")}></polygon>`;
  }
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  const span = Math.max(maxX - minX, maxY - minY, 50);
  const pad = 20;
  const scale = (SIZE - 2 * pad) / span;
  const midX = (minX + maxX) / 2;
  const midY = (minY + maxY) / 2;
  const toX = (x: number): number => SIZE / 2 + (x - midX) * scale;
  const toY = (y: number): number => SIZE / 2 - (y - midY) * scale;
  const hx = toX(0);
  const hy = toY(0);
  // A scale bar of a round number of metres, about a quarter of the map wide.
  const target = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(target));
  const bar = [1, 2, 5, 10].map((f) => f * magnitude).filter((v) => v <= target).pop() ?? magnitude;
  const barPx = bar * scale;
  const barText = bar >= 1000 ? `${bar / 1000} km` : `${bar} m`;
  return svg`<svg class="map" viewBox="0 0 ${SIZE} ${SIZE}" role="img" aria-label=${label}>
    <title>${label}</title>
    <rect class="bg" x="0" y="0" width=${SIZE} height=${SIZE}></rect>
    ${shape(toX, toY, scale)}
    <g class="home">
      <circle cx=${hx} cy=${hy} r="6"></circle>
      <path d="M ${hx - 3.5} ${hy + 0.5} L ${hx} ${hy - 3} L ${hx + 3.5} ${hy + 0.5} Z"></path>
    </g>
    <g class="scale">
      <line x1="10" y1=${SIZE - 12} x2=${10 + barPx} y2=${SIZE - 12}></line>
      <text x="10" y=${SIZE - 16}>${barText}</text>
    </g>
  </svg>`;
}
