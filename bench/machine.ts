// What the numbers were measured on, for the report header.
import * as fs from 'fs';
import * as os from 'os';
import { backends } from 'cellscan';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  /** What the native backend reports using (CPU features and its GEMM kernel); empty without it. */
  features: string[];
  /** The vector-ISA flags the CPU itself advertises (Linux /proc/cpuinfo), whatever the addon uses. */
  cpuFlags: string[];
  memoryGiB: number;
  /** 1-minute load average when the run started: other work competing for the cores. */
  loadAverage: number;
  date: string;
}

const SIMD_FLAGS = [
  'sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16',
  'avx_vnni', 'amx_tile', 'neon', 'asimd', 'sve',
];

function cpuFlags(): string[] {
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
    const have = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    return SIMD_FLAGS.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

export function describeMachine(): Machine {
  const native = backends().find((b) => b.name === 'native' && b.available);
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: os.cpus().length,
    node: process.version,
    features: native?.features ?? [],
    cpuFlags: cpuFlags(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg()[0],
    date: new Date().toISOString().slice(0, 10),
  };
}
