/**
 * Each role's validity as a bar from now to its expiry, with a mark at its
 * next scheduled re-sign, drawn on the server as inline SVG. Time runs on a
 * logarithmic axis (an hour to two years), so a one-day timestamp and a
 * one-year root both read well. Each role's name sits above its bar, so the
 * bars keep the full width on a phone. The same figures are in a table beside it.
 */
export interface TimelineRow {
  role: string;
  version: number;
  expires: string;
  nextResign?: string | undefined;
}

const WIDTH = 540;
const LEFT = 8;
const ROW = 44;
const TOP = 30;
const MIN_MS = 3_600_000;
const MAX_MS = 2 * 365 * 86_400_000;
const TICKS: Array<[number, string]> = [
  [3_600_000, "1 h"],
  [86_400_000, "1 d"],
  [7 * 86_400_000, "1 wk"],
  [30 * 86_400_000, "30 d"],
  [365 * 86_400_000, "1 y"],
];

/** x for a time `ms` from now (clamped to the axis). */
function x(ms: number): number {
  const clamped = Math.min(Math.max(ms, MIN_MS), MAX_MS);
  const share = Math.log(clamped / MIN_MS) / Math.log(MAX_MS / MIN_MS);
  return LEFT + 12 + share * (WIDTH - LEFT - 36);
}

export function Timeline(props: { rows: TimelineRow[]; now: number }) {
  const height = TOP + props.rows.length * ROW + 6;
  return (
    <svg
      class="timeline"
      viewBox={`0 0 ${WIDTH} ${height}`}
      role="img"
      aria-labelledby="timeline-title"
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id="timeline-title">
        Validity of each role from now until it expires, with its next re-sign marked (logarithmic time axis)
      </title>
      {TICKS.map(([ms, label]) => (
        <g>
          <line class="axis" x1={x(ms)} x2={x(ms)} y1={TOP - 8} y2={height - 4} />
          <text x={x(ms)} y={TOP - 14} text-anchor="middle">
            {label}
          </text>
        </g>
      ))}
      {props.rows.map((row, i) => {
        const y = TOP + i * ROW;
        const left = Date.parse(row.expires) - props.now;
        const resign = row.nextResign ? Date.parse(row.nextResign) - props.now : null;
        return (
          <g>
            <text x={LEFT} y={y + 14}>
              {`${row.role} v${row.version}`}
            </text>
            {left > 0 ? (
              <rect class="bar" x={LEFT + 12} y={y + 20} width={Math.max(2, x(left) - LEFT - 12)} height={16} rx={3} />
            ) : null}
            {resign !== null ? <rect class="resign" x={x(resign) - 2} y={y + 17} width={4} height={22} /> : null}
          </g>
        );
      })}
    </svg>
  );
}
