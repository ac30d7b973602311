// `cellscan build-native`: compiles the C++ addon from the sources the package carries (binding.gyp,
// native/) into the package's own build/Release, the first place the loader looks. It is how a user
// whose platform has no prebuilt binary gets the native backend, and what the repository's
// `npm install` runs (scripts/prepare-native.js). npm never builds the package by itself
// ("gypfile": false, no install script), so this is the one way in.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { addonFileName } from '../backend/native-load';

/** The package root: this file sits two levels below it (src/cli or dist/cli). */
export const packageRootOfBuild = path.join(__dirname, '..', '..');

export interface NodeGypLookup {
  /** node-gyp's entry script, when one was found. */
  script?: string;
  /** Every place looked, with what was there. */
  tried: string[];
}

/**
 * node-gyp, from the most specific place to the least: installed beside the package (the
 * repository's devDependency, or a user's own), the one npm names to the scripts it runs
 * (npm_config_node_gyp, set under `npx` and `npm run`), then the copy bundled with npm, found
 * through npm's own path or next to the node executable.
 */
export function findNodeGyp(root: string, env: NodeJS.ProcessEnv = process.env): NodeGypLookup {
  const tried: string[] = [];
  try {
    const script = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
    return { script, tried };
  } catch {
    tried.push(`node-gyp installed beside ${root}: none`);
  }
  const bundled = (npmDir: string) => path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const candidates: [string, string | undefined][] = [
    ['npm_config_node_gyp', env.npm_config_node_gyp],
    // npm_execpath is npm's bin/npm-cli.js while npm runs a script.
    ['npm_execpath', env.npm_execpath && /npm-cli\.js$/.test(env.npm_execpath) ? bundled(path.join(path.dirname(env.npm_execpath), '..')) : undefined],
    // Where Node's own installers put npm (Linux and macOS tarballs, Debian: <prefix>/lib; Windows: beside node.exe).
    ['npm beside node', bundled(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'))],
    ['npm beside node.exe', bundled(path.join(path.dirname(process.execPath), 'node_modules', 'npm'))],
  ];
  for (const [where, file] of candidates) {
    if (file === undefined || file === '') {
      tried.push(`${where}: not set`);
    } else if (fs.existsSync(file)) {
      return { script: file, tried };
    } else {
      tried.push(`${where}: ${file} does not exist`);
    }
  }
  return { tried };
}

/**
 * The cause in node-gyp's output: its "stack Error:" lines name what is missing (Python, make, a
 * compiler, Node's headers); a compiler's failure shows as "error:" lines.
 */
export function nodeGypFailureReason(output: string, status: number | null): string {
  const lines = output.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l) => /stack Error: /.test(l));
  if (start >= 0) {
    const message = [lines[start].replace(/^.*stack Error: /, '')];
    for (const l of lines.slice(start + 1)) {
      if (!/ERR! stack /.test(l) || /ERR! stack\s+at /.test(l)) break;
      message.push(l.replace(/^.*ERR! stack /, ''));
    }
    return message.join(' ');
  }
  const compiler = lines.filter((l) => /\berror:/.test(l)).slice(0, 3);
  if (compiler.length > 0) return compiler.join(' | ');
  return `node-gyp exited with status ${status}`;
}

export interface BuildNativeOptions {
  /** The package folder holding binding.gyp and native/. */
  root?: string;
  /** Keep node-gyp's output to use for the reason instead of printing it (the repository's install). */
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
}

export type BuildNativeResult = { ok: true; binary: string; nodeGyp: string } | { ok: false; reason: string };

/** Runs `node-gyp rebuild` in the package folder; never throws for a failed build, says why instead. */
export function buildNative(options: BuildNativeOptions = {}): BuildNativeResult {
  const root = options.root ?? packageRootOfBuild;
  const env = options.env ?? process.env;
  const missing = ['binding.gyp', 'native'].filter((f) => !fs.existsSync(path.join(root, f)));
  if (missing.length > 0) {
    return { ok: false, reason: `${root} has no ${missing.join(' or ')}: this copy of cellscan does not carry its C++ sources` };
  }
  const gyp = findNodeGyp(root, env);
  if (gyp.script === undefined) {
    return { ok: false, reason: `node-gyp was not found (${gyp.tried.join('; ')}); install it with \`npm install --save-dev node-gyp\`` };
  }
  // Every core: the addon is a dozen translation units and the build is otherwise minutes.
  const run = spawnSync(process.execPath, [gyp.script, 'rebuild', '--jobs', 'max'], {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: options.quiet ? 'pipe' : 'inherit',
  });
  if (run.error) return { ok: false, reason: `node-gyp could not be started: ${run.error.message}` };
  if (run.status !== 0) {
    const output = options.quiet ? `${run.stdout ?? ''}\n${run.stderr ?? ''}` : '';
    return { ok: false, reason: options.quiet ? nodeGypFailureReason(output, run.status) : `node-gyp exited with status ${run.status} (its output above says why)` };
  }
  const binary = path.join(root, 'build', 'Release', addonFileName);
  if (!fs.existsSync(binary)) return { ok: false, reason: `node-gyp succeeded but left no ${binary}` };
  return { ok: true, binary, nodeGyp: gyp.script };
}

/** The kernel table a freshly built binary picks here and the CPU features it sees, read in a process of its own. */
function probeBinary(binary: string): { ok: true; kernels: string; features: string[] } | { ok: false; reason: string } {
  const code = 'const a = require(process.argv[1]); console.log([a.kernels(), ...a.cpuFeatures()].join(" "))';
  const r = spawnSync(process.execPath, ['-e', code, binary], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, reason: (r.stderr || r.error?.message || '').trim().split('\n')[0] };
  const [kernels, ...features] = r.stdout.trim().split(' ');
  return { ok: true, kernels, features };
}

/** The command: build, say where the binary went and that it loads; exit status 1 when it cannot. */
export function buildNativeCommand(args: string[]): number {
  if (args.length > 0) {
    console.error(`cellscan: build-native takes no options, got ${args.map((a) => JSON.stringify(a)).join(' ')} (see \`cellscan build-native --help\`)`);
    return 2;
  }
  const root = packageRootOfBuild;
  console.log(`cellscan: building the native addon from source in ${root}`);
  const result = buildNative({ root });
  if (!result.ok) {
    console.error(
      `cellscan: the native addon was not built: ${result.reason}\n` +
        '  It needs a C++17 compiler (g++ or clang), make and python3; the WebAssembly backend serves meanwhile.',
    );
    return 1;
  }
  const probe = probeBinary(result.binary);
  if (!probe.ok) {
    console.error(`cellscan: ${result.binary} was built but does not load: ${probe.reason}`);
    return 1;
  }
  console.log(
    `cellscan: built ${result.binary} (kernels ${probe.kernels} on this CPU, features ${probe.features.join(' ') || 'none'}).\n` +
      '  cellscan loads it before any prebuilt binary; `npx cellscan info` shows which one serves.',
  );
  return 0;
}
