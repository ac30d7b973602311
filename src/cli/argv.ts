// util.parseArgs refuses an option value that starts with "-" ("argument is ambiguous"), so
// `--lr -1` never reached the range check that says what --lr takes. A value that reads as a
// number (or a list of numbers, as --zoneout H,C) is attached to its flag here, `--lr=-1`, before
// parsing. No command takes a negative number as a positional, so nothing else is lost: a boolean
// flag given one (`--resume -1`) is still refused, by parseArgs, as taking no value.

/** "-1", "-0.5", "-1e-3", "-.5,0.2": a value starting with "-" whose comma-separated parts are numbers. */
export function isNegativeNumber(arg: string): boolean {
  return /^-[\d.I]/.test(arg) && arg.split(',').every((part) => part.trim() !== '' && !Number.isNaN(Number(part)));
}

/** `args` with each `--name -number` written as `--name=-number`; nothing after `--` is touched. */
export function attachNegativeNumbers(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (/^--[^=]+$/.test(arg) && next !== undefined && isNegativeNumber(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}
