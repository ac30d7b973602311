// The command line's usage text, one section per command: `cellscan --help` prints them all,
// `cellscan <command> --help` its own, and an error points to the latter rather than reprinting it.
import { SWEEP_USAGE, WORKER_USAGE } from '../queue/commands';

const SECTIONS: Record<string, string> = {
  demo: `  demo     the adding problem: LSTM vs GRU vs RNN (what \`npm start\` runs)
           --cell lstm,gru,rnn  --length 50  --steps 2500  --hidden 64  --batch 64  --lr 0.003
           --seed 1  --out adding-problem.svg (its folder must exist)`,
  train: `  train    a character-level language model on a text file
           --text FILE (required)  --model model.safetensors  --cell lstm|gru  --hidden 256  --layers 2
           --embed 64  --seq 64  --batch 32  --steps 2000  --lr 0.002  --seed 1
           --every 200  a checkpoint and a progress line every 200 steps (a progress bar as well
                      when stderr is a terminal)
           --resume  continues --model;  --force  replaces it (an existing --model needs one)
           regularization of the recurrent layers (all off by default):
           --residual  --zoneout P (or H,C: hidden, cell)  --recurrent-dropout P  --weight-dropout P
           --dropout P (between layers, below 1)
           --valid F  the last F of the text's characters are held out of training (default 0.1,
                      0: none); their loss in evaluation mode is printed at every checkpoint and
                      at the end, and kept in the checkpoint with the curve
           --log FILE.json  writes the run's settings and learning curve (for \`cellscan plot\`)`,
  sample: `  sample   generate text from a checkpoint
           --model FILE (required)  --length 300  --prime TEXT  --temperature 0.8  --seed 1`,
  corpus: `  corpus   writes generated English-like text to train on (deterministic for a seed)
           --out FILE (required; its folder must exist)  --chars 200000  --seed 1`,
  plot: `  plot     a table and an SVG of held-out loss curves from training logs
           LOG.json...  --out curves.svg  --labels NAME,NAME  --title TEXT`,
  info: `  info     backends, CPU features, threads, which addon binary loaded`,
  bench: `  bench    the benchmark suite (\`npm run bench\`): cellscan's backends against onnxruntime-node
           and TensorFlow.js on the shapes S1-S10 (and W1, W2)
           --shapes S1,S3  (default all)   --backends native,wasm (or --backend; default: every
           one that loaded)   --peers onnxruntime,tfjs|none (default both)   --threads 2
           --time 2000 (ms of samples per task)   --peer-budget 15000 (ms; a slower TF.js fit step
           is not run)   --wasm-section (only the WebAssembly section: defaults --backends wasm
           --peers tfjs --shapes W1,W2,S3, written into --out in place of its earlier self)
           --out FILE  a full run writes bench/RESULTS.md and its chart beside it; a run of a
                      subset of the shapes, backends or peers writes bench/out/RESULTS-subset.md
                      (never bench/RESULTS.md)`,
  worker: WORKER_USAGE,
  sweep: SWEEP_USAGE,
  'build-native': `  build-native  compiles the native addon from source into this package (needs a C++17
           compiler, make and python3); cellscan then loads it before the prebuilt binary`,
};

const COMMON = 'common options (every command but build-native): --backend auto|native|wasm  --threads N  --help';

const EXIT = 'exit status: 0 done, 1 failed, 2 a usage mistake (a flag, a value or a file), 130 interrupted';

export const COMMANDS = Object.keys(SECTIONS);

/** Everything, for `cellscan --help`. */
export const USAGE = `cellscan <command> [options]

${Object.values(SECTIONS).join('\n')}

${COMMON}
${EXIT}
\`cellscan <command> --help\` shows one command's options.`;

/** One command's section, for `cellscan <command> --help`. */
export function usageOf(command: string): string {
  // build-native only compiles: no backend runs and no thread computes.
  const common = command === 'build-native' ? 'options: --help' : COMMON;
  return `cellscan ${command} [options]\n\n${SECTIONS[command]}\n\n${common}\n${EXIT}`;
}
