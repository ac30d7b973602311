// `--grid "hidden=128,256 zoneout=0,0.1"`: every combination of the values, each one a list of
// `cellscan train` flags. Names are train's own flags (checked against its option table, so the
// grid can never ask for a flag train does not take); values are split at commas.
import { UsageError } from '../cli/usage-error';

export type OptionTable = Record<string, { type: 'string' | 'boolean' }>;

export interface GridPoint {
  /** "hidden=128 zoneout=0.1": for the table and the plot's legend. */
  label: string;
  /** "hidden-128_zoneout-0.1": for file names. */
  stem: string;
  /** The flags this point adds to the fixed ones. */
  flags: string[];
}

/** Flags a sweep sets itself or that belong to the workers: never in a grid or given to the sweep. */
export const NOT_SWEPT: Record<string, string> = {
  text: 'the sweep sends its --text to the workers',
  model: 'each configuration is saved under --out',
  log: 'the sweep writes each configuration\'s log under --out',
  resume: 'a sweep trains each configuration from the start',
  force: 'each configuration replaces the checkpoint it finds (a job redone after its worker died starts over)',
  threads: 'each worker sets its own (cellscan worker --threads N)',
  backend: 'each worker sets its own (cellscan worker --backend NAME)',
  help: 'it is no training flag',
};

const MAX_POINTS = 1000;

export function parseGrid(spec: string, train: OptionTable, fixed: ReadonlySet<string>): GridPoint[] {
  const items = spec.trim().split(/\s+/).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError('--grid must name at least one flag, as in "hidden=128,256 zoneout=0,0.1"');
  const axes: { name: string; values: string[] }[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).replace(/^--/, '');
    if (eq < 0) throw new UsageError(`--grid: ${JSON.stringify(item)} must be NAME=V1,V2,... (a train flag and its values)`);
    if (NOT_SWEPT[name]) throw new UsageError(`--grid: --${name} cannot be swept: ${NOT_SWEPT[name]}`);
    const option = train[name];
    if (!option) throw new UsageError(`--grid: ${JSON.stringify(name)} is not a flag of cellscan train`);
    if (fixed.has(name)) throw new UsageError(`--grid: --${name} is given both as a flag and in the grid`);
    if (axes.some((a) => a.name === name)) throw new UsageError(`--grid: ${name} appears twice`);
    const values = item.slice(eq + 1).split(',');
    if (values.some((v) => v === '')) throw new UsageError(`--grid: ${name} needs values separated by commas, got ${JSON.stringify(item.slice(eq + 1))}`);
    if (option.type === 'boolean' && values.some((v) => v !== 'true' && v !== 'false')) {
      throw new UsageError(`--grid: --${name} is a switch: its values must be true or false, got ${JSON.stringify(item.slice(eq + 1))}`);
    }
    axes.push({ name, values });
  }
  const count = axes.reduce((n, a) => n * a.values.length, 1);
  if (count > MAX_POINTS) throw new UsageError(`--grid makes ${count} configurations, more than ${MAX_POINTS}`);
  // The first axis varies slowest, as the grid reads.
  let points: { label: string[]; flags: string[] }[] = [{ label: [], flags: [] }];
  for (const axis of axes) {
    points = points.flatMap((pt) =>
      axis.values.map((v) => {
        const flags = train[axis.name].type === 'boolean' ? (v === 'true' ? [`--${axis.name}`] : []) : [`--${axis.name}`, v];
        return { label: [...pt.label, `${axis.name}=${v}`], flags: [...pt.flags, ...flags] };
      }),
    );
  }
  return points.map((pt) => ({
    label: pt.label.join(' '),
    stem: pt.label.map((l) => l.replace('=', '-').replace(/[^A-Za-z0-9._-]/g, '_')).join('_'),
    flags: pt.flags,
  }));
}
