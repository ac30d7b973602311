// What the numbers were measured on, for the report header.
import * as os from 'os';
import { backends } from 'cellscan';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  features: string[];
  date: string;
}

export function describeMachine(): Machine {
  const native = backends().find((b) => b.name === 'native' && b.available);
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    node: process.version,
    features: native?.features ?? [],
    date: new Date().toISOString().slice(0, 10),
  };
}
