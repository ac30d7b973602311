// `cellscan sweep`'s flags: its own, and every other train flag, which applies to every
// configuration. Checked here, before anything loads BullMQ or connects.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { UsageError } from '../cli/usage-error';
import { queueFlag, queueOptions, redisFlag } from './command-line';
import type { RedisTarget } from './connection';
import { DEFAULT_QUEUE } from './keys';
import { type GridPoint, NOT_SWEPT, type OptionTable, parseGrid } from './sweep-grid';

const own = {
  ...queueOptions,
  grid: { type: 'string' },
  out: { type: 'string' },
  svg: { type: 'string' },
  title: { type: 'string' },
} as const;

export interface SweepPlan {
  target: RedisTarget;
  queue: string;
  /** --text as given (the logs name it so). */
  textName: string;
  /** The train flags every configuration shares. */
  fixed: string[];
  points: GridPoint[];
  /** Absolute: workers save checkpoints here, the producer its logs. */
  out: string;
  svg: string;
  title?: string;
}

/** Every check of the sweep's flags, made before BullMQ loads or Redis is asked anything. */
export function planSweep(args: string[], trainOptions: OptionTable): SweepPlan {
  const { values } = parseArgs({ args, options: { ...trainOptions, ...own } });
  const given = values as Record<string, string | boolean | undefined>;
  for (const name of Object.keys(NOT_SWEPT)) {
    if (name !== 'text' && given[name] !== undefined) throw new UsageError(`sweep takes no --${name}: ${NOT_SWEPT[name]}`);
  }
  const target = redisFlag('sweep', values.redis);
  const queue = queueFlag(values.queue, DEFAULT_QUEUE);
  if (typeof given.text !== 'string') throw new UsageError('sweep needs --text FILE');
  if (values.grid === undefined) throw new UsageError('sweep needs --grid "NAME=V1,V2 ...", as in "hidden=128,256 zoneout=0,0.1"');
  const textName = given.text;
  if (!fs.existsSync(textName)) throw new UsageError(`--text: ${textName} does not exist`);
  // The flags every configuration shares, in train's own spelling.
  const fixed: string[] = [];
  const fixedNames = new Set<string>();
  for (const [name, option] of Object.entries(trainOptions)) {
    const v = given[name];
    if (v === undefined || name in NOT_SWEPT) continue;
    fixedNames.add(name);
    if (option.type === 'boolean') {
      if (v === true) fixed.push(`--${name}`);
    } else {
      fixed.push(`--${name}`, String(v));
    }
  }
  const points = parseGrid(values.grid, trainOptions, fixedNames);
  const out = path.resolve(values.out ?? 'sweep');
  const svg = path.resolve(values.svg ?? path.join(out, 'curves.svg'));
  return { target, queue, textName, fixed, points, out, svg, title: values.title };
}
